/**
 * Which secrets a compose build needs and where each comes from.
 *
 * A `build.secrets` entry names a secret by id. secbuild's own secrets
 * (`--secret`, `--netrc`, `--npmrc`, secbuild.yml) come first: a compose-level
 * `secrets:` definition with the same name is replaced for the build (one info
 * line says so). A compose-level secret secbuild does not define is read by
 * secbuild from its `file:` (relative to the project directory, as Compose
 * resolves it) or `environment:` source, as a `file:`/`env:` reference, so it
 * gets the same checks and cleanup. `external: true` is refused unless secbuild
 * defines the secret: Compose drops external build secrets without a word.
 */
import { readFileSync, statSync } from 'node:fs';
import { MAX_TEMPLATE_BYTES } from '../../secrets/limits.js';
import { parseRef } from '../../../providers/index.js';
import { UsageError } from '../../util/errors.js';
import { showTyped } from '../../util/shown.js';
import { checkId, type SecretSpec } from '../../secrets/spec.js';
import { specFields, templateNames } from '../../secrets/render.js';
import type { Project } from './files.js';
import { isObj } from './merge.js';
import type { ServiceBuild } from './plan.js';

export interface ComposeSecrets {
  /** What to resolve: the secrets the builds grant (handed to docker) and their template inputs. */
  specs: SecretSpec[];
  /** Info lines: compose definitions replaced by secbuild's. */
  notes: string[];
  /** secbuild secrets that no service grants under build.secrets (not resolved, not handed to docker). */
  ungranted: string[];
  /** Top-level compose secret definitions by name (for the override file). */
  composeDefs: Map<string, Record<string, unknown>>;
}

function describeDef(def: Record<string, unknown>): string {
  if (typeof def.file === 'string') return `file: ${def.file}`;
  if (typeof def.environment === 'string') return `environment: ${def.environment}`;
  if (def.external) return 'external: true';
  return Object.keys(def).join(', ') || 'empty';
}

/** Names a spec reads from other specs: netrc/npmrc fields naming a secret, template placeholders. */
function inputsOf(spec: SecretSpec): string[] {
  if (spec.kind === 'netrc' || spec.kind === 'npmrc') return specFields(spec).flatMap((f) => (f.kind === 'secret' ? [f.name] : []));
  if (spec.kind === 'template') {
    try {
      if (spec.text !== undefined) return [...templateNames(spec.text).keys()];
      // Only a regular file within the limit: resolution reads (and refuses) anything else with its bounded reader.
      const st = statSync(spec.path);
      return st.isFile() && st.size <= MAX_TEMPLATE_BYTES ? [...templateNames(readFileSync(spec.path, 'utf8')).keys()] : [];
    } catch {
      return []; // resolveSpecs reports an unreadable or broken template
    }
  }
  return [];
}

/**
 * A top-level compose secret secbuild does not define, as a spec that reads
 * its source as Compose would: `file:` (relative to the project directory) or
 * `environment:`; undefined when the definition has neither, or both.
 */
export function specOfDef(project: Project, source: string, def: Record<string, unknown>): SecretSpec | undefined {
  const where = `${project.shownFiles.join(' + ')} secrets.${source}`;
  const as = (scheme: 'file' | 'env', key: 'file' | 'environment', value: string): SecretSpec =>
    ({ kind: 'ref', id: checkId(source, `secrets.${source}`), optional: false, mount: true, origin: showTyped(where), ref: parseRef(`${scheme}:${value}`, project.dir, `${where}.${key}`), label: `${key}: ${value}` });
  if (typeof def.file === 'string' && def.environment === undefined) return as('file', 'file', def.file);
  if (typeof def.environment === 'string' && def.file === undefined) return as('env', 'environment', def.environment);
  return undefined;
}

/**
 * Adds to `specs` the secrets its specs read from (a .netrc's password, a
 * template's placeholders), resolved but not handed over by themselves.
 */
export function withInputs(specs: Map<string, SecretSpec>, byId: ReadonlyMap<string, SecretSpec>): void {
  const todo = [...specs.values()];
  while (todo.length > 0) {
    for (const name of inputsOf(todo.pop()!)) {
      const input = byId.get(name);
      if (input && !specs.has(name)) {
        specs.set(name, input);
        todo.push(input);
      }
    }
  }
}

export function composeSecrets(project: Project, builds: readonly ServiceBuild[], own: readonly SecretSpec[]): ComposeSecrets {
  const top = isObj(project.model.secrets) ? project.model.secrets : {};
  const composeDefs = new Map(Object.entries(top).filter(([, d]) => isObj(d)) as Array<[string, Record<string, unknown>]>);
  const byId = new Map(own.map((s) => [s.id, s]));
  const files = project.shownFiles.join(' + ');
  const errors: string[] = [];
  const notes: string[] = [];
  const specs = new Map<string, SecretSpec>();

  const used = new Map<string, string>(); // source -> first `at`
  for (const b of builds) for (const g of b.grants) if (!used.has(g.source)) used.set(g.source, `${b.files.join(' + ') || files}: ${g.at}`);

  for (const [source, at] of used) {
    const def = composeDefs.get(source);
    const mine = byId.get(source);
    if (mine) {
      specs.set(source, { ...mine, mount: true });
      if (def) {
        const why = def.external ? ' (Compose would drop an external build secret without a word)' : '';
        notes.push(`${files}: secrets.${source} (${describeDef(def)}) is replaced for the build by secbuild's secret "${source}" from ${mine.origin}${why}.`);
      }
      continue;
    }
    const fix = `define it for secbuild with --secret id=${source},from=REF or under secrets: in secbuild.yml`;
    if (!def) {
      errors.push(`${at} names secret "${source}", which neither secbuild (--secret, --netrc, --npmrc, secbuild.yml) nor the compose files' top-level secrets: define; ${fix}.`);
      continue;
    }
    try {
      checkId(source, `secrets.${source}`);
    } catch (err) {
      errors.push((err as Error).message);
      continue;
    }
    const spec = def.external ? undefined : specOfDef(project, source, def);
    if (def.external) {
      errors.push(`${files}: secrets.${source} is external: true, and Compose drops external secrets from builds without a word, so BuildKit would mount nothing; ${fix}.`);
    } else if (spec) {
      specs.set(source, spec);
    } else {
      errors.push(`${files}: secrets.${source}: a build secret needs exactly one of file: or environment: (found ${describeDef(def)}); fix it, or ${fix}.`);
    }
  }
  if (errors.length > 0) throw new UsageError(errors.join('\n'));

  // Template inputs of what is handed over are resolved too, but not handed over by themselves.
  withInputs(specs, byId);
  // Only secrets no service grants at all are worth a warning: building a subset leaves the others' unused.
  const grantedAnywhere = new Set<string>();
  for (const def of Object.values(isObj(project.model.services) ? project.model.services : {})) {
    const list = isObj(def) && isObj(def.build) && Array.isArray(def.build.secrets) ? def.build.secrets : [];
    for (const e of list) grantedAnywhere.add(typeof e === 'string' ? e : isObj(e) ? String(e.source) : '');
  }
  const ungranted = own.filter((s) => s.mount && !specs.has(s.id) && !grantedAnywhere.has(s.id)).map((s) => s.id);
  return { specs: [...specs.values()], notes, ungranted, composeDefs };
}

/**
 * Refuses a build value that Compose would fill from a variable secbuild reads a
 * secret from (a build-arg or label is recorded in the image; the image name is in argv).
 */
export function checkSecretVariables(project: Project, builds: readonly ServiceBuild[], sensitive: ReadonlySet<string>): void {
  const errors: string[] = [];
  for (const b of builds) {
    for (const [path, { file, vars }] of project.usedVars) {
      if (!path.startsWith(`services.${b.service}.build.`) && path !== `services.${b.service}.image`) continue;
      const hit = vars.find((v) => sensitive.has(v));
      if (hit) errors.push(`${file}: ${path} is interpolated from $${hit}, which secbuild reads a secret from; build-args, labels and image names are recorded in the image or argv. Mount it as a secret instead (build.secrets and RUN --mount=type=secret).`);
    }
    for (const [k, v] of b.args) {
      if (v === null && sensitive.has(k)) {
        errors.push(`${b.files.join(' + ')}: services.${b.service}.build.args.${k} takes its value from $${k}, which secbuild reads a secret from; a build-arg is recorded in the image. Mount it as a secret instead.`);
      }
    }
  }
  if (errors.length > 0) throw new UsageError(errors.join('\n'));
}
