/**
 * Run-time secrets of a compose project (`secbuild compose up`): which
 * top-level secrets the selected services use (`services.S.secrets`, short
 * or long syntax), where each comes from — secbuild's own (`--secret`,
 * secbuild.yml) first, else the compose file's `file:` or `environment:`
 * source read by secbuild as a `file:`/`env:` reference — and the owner and
 * mode the long syntax asks for. Compose v2 bind-mounts a `file:` secret as
 * it is and ignores uid/gid/mode for it, so secbuild sets them on its tmpfs
 * file (Compose's defaults: uid and gid 0, mode 0444). Pure.
 *
 * Example: `secrets: [{ source: db, target: /etc/app/db, uid: "1000", mode: 0400 }]`
 * gives the file of `db` owner 1000 and mode 0400, mounted at /etc/app/db.
 */
import { resolve } from 'node:path';
import type { BuildArg } from '../../guards/build-args.js';
import { idOf, modeOf, type Ownership } from '../../secrets/ownership.js';
import type { SecretSpec } from '../../secrets/spec.js';
import { UsageError } from '../../util/errors.js';
import type { Project } from './files.js';
import { isObj } from './merge.js';
import { specOfDef, withInputs } from './secrets.js';

export type { Ownership };

/** Compose's defaults for a secret's file in the container. */
export const DEFAULT_OWNERSHIP: Ownership = { uid: 0, gid: 0, mode: 0o444 };

export interface RunSecrets {
  /** What to resolve, one spec per used top-level secret (id = its name). */
  specs: SecretSpec[];
  /** Owner and mode per secret name. */
  ownership: Map<string, Ownership>;
  /** Top-level compose definitions by name (for the override). */
  composeDefs: Map<string, Record<string, unknown>>;
  notes: string[];
}

/**
 * `defaults`: the owner and mode of a secret whose entry gives none —
 * Compose's (DEFAULT_OWNERSHIP) for root; `compose up` passes the invoking
 * user's uid and gid, as only root can give a file away and the 0444 mode
 * already lets every user of the container read it.
 */
export function runSecrets(project: Project, services: readonly string[], own: readonly SecretSpec[], defaults: Ownership = DEFAULT_OWNERSHIP): RunSecrets {
  const files = project.shownFiles.join(' + ');
  const defs = isObj(project.model.secrets) ? project.model.secrets : {};
  const composeDefs = new Map(Object.entries(defs).filter(([, d]) => isObj(d)) as Array<[string, Record<string, unknown>]>);
  const all = isObj(project.model.services) ? project.model.services : {};
  const byId = new Map(own.map((s) => [s.id, s]));
  const ownership = new Map<string, { o: Ownership; at: string }>();
  const specs = new Map<string, SecretSpec>();
  const errors: string[] = [];
  const notes: string[] = [];
  for (const service of services) {
    const def = all[service];
    const list = isObj(def) && Array.isArray(def.secrets) ? def.secrets : [];
    list.forEach((e, i) => {
      const at = `${files}: services.${service}.secrets[${i}]`;
      const source = typeof e === 'string' ? e : isObj(e) && typeof e.source === 'string' ? e.source : undefined;
      if (source === undefined) return errors.push(`${at}: expected a secret name or { source: NAME, target: PATH }.`);
      const o: Ownership = {
        uid: isObj(e) && e.uid !== undefined ? idOf(e.uid, `${at}.uid`) : defaults.uid,
        gid: isObj(e) && e.gid !== undefined ? idOf(e.gid, `${at}.gid`) : defaults.gid,
        mode: isObj(e) && e.mode !== undefined ? modeOf(e.mode, `${at}.mode`) : defaults.mode,
      };
      const seen = ownership.get(source);
      if (seen && (seen.o.uid !== o.uid || seen.o.gid !== o.gid || seen.o.mode !== o.mode)) {
        errors.push(`${at} asks for secret "${source}" with uid ${o.uid}, gid ${o.gid}, mode 0${o.mode.toString(8)}, but ${seen.at} with uid ${seen.o.uid}, gid ${seen.o.gid}, mode 0${seen.o.mode.toString(8)}; one file cannot have both: give both the same, or define a second secret from the same reference.`);
      }
      if (!seen) ownership.set(source, { o, at });
      if (specs.has(source)) return;
      const mine = byId.get(source);
      const top = composeDefs.get(source);
      const spec = top && specOfDef(project, source, top);
      if (mine) {
        specs.set(source, { ...mine, mount: true });
        if (top) notes.push(`${files}: secrets.${source} is replaced by secbuild's secret "${source}" from ${mine.origin}.`);
      } else if (!top) {
        errors.push(`${at} names secret "${source}", which neither secbuild (--secret, secbuild.yml) nor the compose files' top-level secrets: define; define it with --secret id=${source},from=REF.`);
      } else if (spec) {
        specs.set(source, spec);
      } else {
        errors.push(`${files}: secrets.${source} needs exactly one of file: or environment: for secbuild to provide it (external: true is Swarm's); define it with --secret id=${source},from=REF instead.`);
      }
    });
  }
  if (errors.length > 0) throw new UsageError(errors.join('\n'));
  // The inputs of a rendered file handed over (a .netrc's token) are resolved too, not mounted by themselves.
  withInputs(specs, byId);
  return { specs: [...specs.values()], ownership: new Map([...ownership].map(([k, v]) => [k, v.o])), composeDefs, notes };
}

/**
 * Every service of the model (selected or not: a dependency Compose starts
 * too) whose `secrets:` names one of `names`: Compose mounts secbuild's file
 * into each of them.
 */
export function servicesMounting(project: Project, names: ReadonlySet<string>): string[] {
  const all = isObj(project.model.services) ? project.model.services : {};
  return Object.entries(all)
    .filter(([, def]) => isObj(def) && Array.isArray(def.secrets) && def.secrets.some((e) => names.has(typeof e === 'string' ? e : isObj(e) ? String(e.source) : '')))
    .map(([name]) => name);
}

/**
 * Refuses a service value Compose would fill from a variable secbuild reads a
 * secret from: it would be copied into the container's config (`docker inspect`).
 */
export function checkRuntimeVariables(project: Project, services: readonly string[], sensitive: ReadonlySet<string>): void {
  const errors: string[] = [];
  for (const [path, { file, vars }] of project.usedVars) {
    if (!services.some((s) => path.startsWith(`services.${s}.`))) continue;
    const hit = vars.find((v) => sensitive.has(v));
    if (hit) errors.push(`${file}: ${path} is interpolated from $${hit}, which secbuild reads a secret from; Compose would copy the value into the container's config (docker inspect). Hand it over as a secret (services.S.secrets) instead.`);
  }
  if (errors.length > 0) throw new UsageError(errors.join('\n'));
}

/**
 * What the selected services' containers record in their config (`docker
 * inspect`): each `environment:`, `labels:` and `annotations:` value of the merged,
 * interpolated model, and each line of their `env_file:` files (texts by
 * absolute path, read by the caller) (map or `K=V` list; a bare `K` in an environment list
 * takes its value from the project's environment, as Compose does), for the
 * guard (src/guards/build-args.ts), which refuses one that carries a secret.
 */
export function serviceConfigValues(project: Project, services: readonly string[], envFileTexts: ReadonlyMap<string, string> = new Map()): BuildArg[] {
  const all = isObj(project.model.services) ? project.model.services : {};
  const out: BuildArg[] = [];
  for (const s of services) {
    const svc = all[s];
    if (!isObj(svc)) continue;
    for (const key of ['environment', 'labels', 'annotations'] as const) {
      const flag = `services.${s}.${key}`;
      const add = (name: string, value: string | undefined) => out.push({ flag, container: 'compose', name, value, fromEnv: false });
      const v = svc[key];
      if (Array.isArray(v)) {
        for (const item of v) {
          if (typeof item !== 'string') continue;
          const eq = item.indexOf('=');
          if (eq >= 0) add(item.slice(0, eq), item.slice(eq + 1));
          else add(item, key === 'environment' ? project.env[item] : undefined);
        }
      } else if (isObj(v)) {
        for (const [name, value] of Object.entries(v)) add(name, value === null || value === undefined ? (key === 'environment' ? project.env[name] : undefined) : String(value));
      }
    }
    envFilesOf(svc).forEach((file, i) => {
      for (const line of (envFileTexts.get(resolve(project.dir, file)) ?? '').split(/\r?\n/)) {
        // dotenv as Compose writes it: `export K=V`, quotes; a value is also caught inside its raw line (the guard looks for forms within).
        const m = /^\s*(?:export\s+)?([^#=\s][^=]*?)\s*=\s*(.*)$/.exec(line);
        if (m) out.push({ flag: `services.${s}.env_file[${i}]`, container: 'compose', name: m[1]!, value: m[2]!.replace(/^(['"])(.*)\1$/, '$2'), fromEnv: false });
      }
    });
  }
  return out;
}

/** A service's `env_file:` paths as written (a string, or a list of strings and `{ path }`). */
export function envFilesOf(svc: unknown): string[] {
  const v = isObj(svc) ? svc.env_file : undefined;
  const list: unknown[] = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
  return list.flatMap((e) => (typeof e === 'string' ? [e] : isObj(e) && typeof e.path === 'string' ? [e.path] : []));
}
