/**
 * From the merged compose model to build plans: which services are built (the
 * ones named, else every active one with `build:`; `profiles:` as Compose
 * applies them), each one's build keys read and checked, the secrets it grants
 * (`build.secrets`), its image name, and the order (depends_on, else file order).
 * Pure: the model in, plans out.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { isRemoteContext } from '../docker/context.js';
import type { Project } from './files.js';
import { isObj, toSequence } from './merge.js';

/** The build keys the direct engine turns into `docker build` flags. */
export const DIRECT_BUILD_KEYS = ['context', 'dockerfile', 'target', 'args', 'labels', 'network', 'ssh', 'extra_hosts', 'cache_from', 'secrets'] as const;

/** One `build.secrets` entry: the compose secret it names and the id BuildKit sees. */
export interface Grant {
  source: string;
  id: string;
  /** `services.api.build.secrets[0]`, for messages. */
  at: string;
  /** The absolute `target:` that was dropped (Compose would hand BuildKit a secret nobody mounts). */
  droppedTarget?: string;
}

export interface ServiceBuild {
  service: string;
  /** Compose files that mention the service, for messages. */
  files: string[];
  /** Absolute directory, or the URL of a remote context. */
  context: string;
  remote: boolean;
  /** Absolute Dockerfile path; for a remote context, the value as given (or undefined). */
  dockerfile?: string;
  target?: string;
  /** Build args in order; a null value comes from the environment. */
  args: Array<[string, string | null]>;
  labels: Array<[string, string]>;
  network?: string;
  ssh: string[];
  extraHosts: string[];
  cacheFrom: string[];
  grants: Grant[];
  image: string;
  dependsOn: string[];
  /** Key paths outside DIRECT_BUILD_KEYS (refused by the direct engine). */
  unsupported: string[];
  /** Warnings found while reading (printed once, by the command). */
  notes: string[];
}

export interface SelectOptions {
  services: string[];
  profiles: string[];
  withDependencies: boolean;
  /** `-` (Compose v2), `_` with --compatibility. */
  separator: string;
}

const str = (v: unknown) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : typeof v === 'string' ? v : undefined);

function fail(file: string, at: string, expected: string): never {
  throw new UsageError(`${file}: ${at}: expected ${expected}.`);
}

function keyValues(v: unknown, file: string, at: string): Array<[string, string | null]> {
  if (v === undefined || v === null) return [];
  const byKey = new Map<string, string | null>();
  if (isObj(v)) for (const [k, val] of Object.entries(v)) byKey.set(k, val === null ? null : (str(val) ?? fail(file, `${at}.${k}`, 'a string, number or boolean')));
  else if (Array.isArray(v)) {
    for (const e of v) {
      const s = str(e) ?? fail(file, at, 'a list of KEY=VALUE strings or a mapping');
      const eq = s.indexOf('=');
      byKey.set(eq < 0 ? s : s.slice(0, eq), eq < 0 ? null : s.slice(eq + 1));
    }
  } else fail(file, at, 'a list of KEY=VALUE strings or a mapping');
  return [...byKey];
}

function stringList(v: unknown, file: string, at: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(file, at, 'a list of strings');
  return v.map((e, i) => str(e) ?? fail(file, `${at}[${i}]`, 'a string'));
}

function grants(v: unknown, file: string, at: string, notes: string[]): Grant[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(file, at, 'a list of secret names or { source, target } entries');
  return v.map((e, i): Grant => {
    const here = `${at}[${i}]`;
    if (typeof e === 'string') return { source: e, id: e, at: here };
    if (!isObj(e) || typeof e.source !== 'string') return fail(file, here, 'a secret name or { source: NAME, target: ID }');
    for (const k of Object.keys(e)) if (!['source', 'target', 'uid', 'gid', 'mode'].includes(k)) fail(file, `${here}.${k}`, 'one of source, target, uid, gid, mode (unknown key)');
    if (e.uid !== undefined || e.gid !== undefined || e.mode !== undefined) notes.push(`${file}: ${here}: uid, gid and mode are ignored by BuildKit for build secrets; set them in the Dockerfile's RUN --mount.`);
    const target = e.target === undefined ? undefined : (str(e.target) ?? fail(file, `${here}.target`, 'a secret id'));
    if (target !== undefined && target.startsWith('/')) {
      notes.push(
        `${file}: ${here}.target "${target}" is a path, but for a build secret target only renames the secret id, so Compose would hand BuildKit a secret that no RUN mounts. secbuild uses id "${e.source}"; put the path in the Dockerfile (RUN --mount=type=secret,id=${e.source},target=${target}) and drop target:.`,
      );
      return { source: e.source, id: e.source, at: here, droppedTarget: target };
    }
    return { source: e.source, id: target || e.source, at: here };
  });
}

function hosts(v: unknown, file: string, at: string): string[] {
  if (isObj(v)) return Object.entries(v).flatMap(([h, ip]) => (Array.isArray(ip) ? ip : [ip]).map((x) => `${h}:${str(x) ?? fail(file, `${at}.${h}`, 'an IP address')}`));
  // compose accepts HOST=IP and HOST:IP; docker build --add-host wants HOST:IP.
  return stringList(v, file, at).map((e) => (/^[^:=]+=/.test(e) ? e.replace('=', ':') : e));
}

function ssh(v: unknown, file: string, at: string, dir: string): string[] {
  const list = isObj(v) ? toSequence(v).map(String) : stringList(v, file, at);
  return list.map((e) => {
    const eq = e.indexOf('=');
    if (eq < 0) return e;
    const p = e.slice(eq + 1);
    return p && !isAbsolute(p) && !p.startsWith('~') ? `${e.slice(0, eq + 1)}${resolvePath(dir, p)}` : e;
  });
}

export function readBuild(project: Project, service: string, def: Record<string, unknown>, separator: string): ServiceBuild {
  const files = project.serviceFiles.get(service) ?? [];
  const file = files.join(' + ') || 'the compose file';
  const at = `services.${service}.build`;
  const b: Record<string, unknown> = typeof def.build === 'string' ? { context: def.build } : isObj(def.build) ? def.build : fail(file, at, 'a context path or a mapping');
  const notes: string[] = [];
  const unsupported = Object.keys(b).filter((k) => !(DIRECT_BUILD_KEYS as readonly string[]).includes(k) && !k.startsWith('x-')).map((k) => `${at}.${k}`);
  if (def.platform !== undefined) unsupported.push(`services.${service}.platform`);
  if (def.extends !== undefined) throw new UsageError(`${file}: services.${service}.extends is not supported by secbuild (it reads compose files itself); inline the extended service's keys.`);

  const rawContext = b.context === undefined ? '.' : (str(b.context) ?? fail(file, `${at}.context`, 'a path or URL'));
  const remote = isRemoteContext(rawContext);
  const context = remote ? rawContext : resolvePath(project.dir, rawContext);
  const rawDockerfile = b.dockerfile === undefined ? undefined : (str(b.dockerfile) ?? fail(file, `${at}.dockerfile`, 'a path'));
  const dockerfile = remote ? rawDockerfile : resolvePath(context, rawDockerfile ?? 'Dockerfile');
  const image = def.image === undefined || def.image === null ? `${project.name}${separator}${service}` : (str(def.image) ?? fail(file, `services.${service}.image`, 'an image name'));
  const dependsOn = Array.isArray(def.depends_on) ? def.depends_on.map(String) : isObj(def.depends_on) ? Object.keys(def.depends_on) : [];
  return {
    service,
    files,
    context,
    remote,
    dockerfile,
    target: b.target === undefined ? undefined : (str(b.target) ?? fail(file, `${at}.target`, 'a stage name')),
    args: keyValues(b.args, file, `${at}.args`),
    labels: keyValues(b.labels, file, `${at}.labels`).map(([k, v]) => [k, v ?? '']),
    network: b.network === undefined ? undefined : (str(b.network) ?? fail(file, `${at}.network`, 'a network name')),
    ssh: ssh(b.ssh, file, `${at}.ssh`, project.dir),
    extraHosts: b.extra_hosts === undefined ? [] : hosts(b.extra_hosts, file, `${at}.extra_hosts`),
    cacheFrom: stringList(b.cache_from, file, `${at}.cache_from`),
    grants: grants(b.secrets, file, `${at}.secrets`, notes),
    image,
    dependsOn,
    unsupported,
    notes,
  };
}

export function activeByProfile(def: unknown, profiles: readonly string[]): boolean {
  const own = isObj(def) && Array.isArray(def.profiles) ? def.profiles.map(String) : [];
  return own.length === 0 || profiles.includes('*') || own.some((p) => profiles.includes(p));
}

/**
 * The services to build, in build order. Named services are built whatever
 * their profiles (as Compose v2 does); a named service without `build:` is
 * reported and skipped.
 */
export function selectBuilds(project: Project, opts: SelectOptions): { builds: ServiceBuild[]; withoutBuild: string[] } {
  if (project.model.include !== undefined) {
    throw new UsageError(`${project.shownFiles.join(' + ')}: include: is not supported by secbuild (it reads compose files itself); pass the included files with -f instead.`);
  }
  const services = isObj(project.model.services) ? project.model.services : {};
  const names = Object.keys(services);
  for (const s of opts.services) {
    if (!names.includes(s)) throw new UsageError(`no such service: "${s}"; the compose files define ${names.length ? names.join(', ') : 'no services'}.`);
  }
  let wanted = opts.services.length > 0 ? [...new Set(opts.services)] : names.filter((n) => activeByProfile(services[n], opts.profiles));
  if (opts.withDependencies) {
    const all = new Set<string>();
    const add = (n: string) => {
      if (all.has(n) || !names.includes(n)) return;
      all.add(n);
      const d = isObj(services[n]) ? services[n] : {};
      (Array.isArray(d.depends_on) ? d.depends_on.map(String) : isObj(d.depends_on) ? Object.keys(d.depends_on) : []).forEach(add);
    };
    wanted.forEach(add);
    wanted = names.filter((n) => all.has(n));
  }
  const withoutBuild = wanted.filter((n) => !isObj(services[n]) || (services[n] as Record<string, unknown>).build === undefined);
  const builds = wanted
    .filter((n) => !withoutBuild.includes(n))
    .map((n) => readBuild(project, n, services[n] as Record<string, unknown>, opts.separator));
  return { builds: buildOrder(builds), withoutBuild };
}

/** depends_on order among the services built, file order otherwise (Kahn's algorithm, stable). */
export function buildOrder(builds: ServiceBuild[]): ServiceBuild[] {
  const byName = new Map(builds.map((b) => [b.service, b]));
  const done = new Set<string>();
  const out: ServiceBuild[] = [];
  while (out.length < builds.length) {
    const next = builds.find((b) => !done.has(b.service) && b.dependsOn.every((d) => done.has(d) || !byName.has(d) || d === b.service));
    if (!next) {
      const cycle = builds.filter((b) => !done.has(b.service)).map((b) => b.service);
      throw new UsageError(`services ${cycle.join(', ')} depend on each other (depends_on forms a cycle); remove one of the depends_on entries.`);
    }
    done.add(next.service);
    out.push(next);
  }
  return out;
}

/**
 * The build-args a service is built with: its `build.args`, then the command
 * line's `--build-arg` on top. A value-less arg is read from the project
 * environment and left out when unset, as Compose does.
 */
export function effectiveArgs(b: ServiceBuild, cli: ReadonlyArray<[string, string | null]>, env: NodeJS.ProcessEnv): Array<[string, string]> {
  const byKey = new Map<string, string | null>([...b.args, ...cli]);
  const out: Array<[string, string]> = [];
  for (const [k, v] of byKey) {
    const value = v ?? env[k];
    if (value !== undefined) out.push([k, value]);
  }
  return out;
}
