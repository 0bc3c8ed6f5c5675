/**
 * Pure builders for both engines: resolved plans in, `string[]` (or the
 * override file's text) out. Secret files appear as paths; values never do.
 *
 * - direct: one `docker build` per service (core's dockerBuildArgv);
 * - compose: `docker compose <files> -f OVERRIDE build …` and the override
 *   itself — JSON, which is YAML, with Compose's `!override` tag (2.24.4+) only
 *   where an existing definition must be replaced rather than merged.
 */
import { dockerBuildArgv } from '../docker/argv.js';
import type { SecretFile } from '../../run/rundir.js';
import type { Grant, ServiceBuild } from './plan.js';
import { RUN_LABEL } from '../../run/keeper.js';

export interface DirectOptions {
  project: string;
  /** Effective build-args (service args with --build-arg on top, env values filled in). */
  args: ReadonlyArray<[string, string]>;
  noCache: boolean;
  pull: boolean;
  quiet: boolean;
  progress?: string;
  /** --ssh values from the command line, after the service's own. */
  ssh: readonly string[];
  /** secbuild's agent socket per ssh id (--ssh-key, secbuild.yml ssh:). */
  sockets?: ReadonlyMap<string, string>;
}

/**
 * A service's `build.ssh` with every entry that names one of secbuild's ssh
 * ids and no path (`- default`, `- gitlab`) pointed at that id's agent
 * socket; other entries as written.
 */
export function serviceSsh(entries: readonly string[], sockets: ReadonlyMap<string, string> = new Map()): string[] {
  return entries.map((e) => (!e.includes('=') && sockets.has(e.trim()) ? `${e.trim()}=${sockets.get(e.trim())}` : e));
}

/** `docker build` for one service, as Compose would build it. */
/** `build` is the engine's argv builder (podman's differs in its --secret values). */
export function directBuildArgv(b: ServiceBuild, files: readonly SecretFile[], o: DirectOptions, build = dockerBuildArgv): string[] {
  const args: string[] = [];
  if (b.dockerfile) args.push('-f', b.dockerfile);
  if (b.target) args.push('--target', b.target);
  for (const [k, v] of o.args) args.push('--build-arg', `${k}=${v}`);
  for (const [k, v] of b.labels) args.push('--label', `${k}=${v}`);
  // Compose labels its images with the project and service (api.ProjectLabel, api.ServiceLabel).
  args.push('--label', `com.docker.compose.project=${o.project}`, '--label', `com.docker.compose.service=${b.service}`);
  if (b.network) args.push('--network', b.network);
  for (const s of [...serviceSsh(b.ssh, o.sockets), ...o.ssh]) args.push('--ssh', s);
  for (const h of b.extraHosts) args.push('--add-host', h);
  for (const c of b.cacheFrom) args.push('--cache-from', c);
  if (o.noCache) args.push('--no-cache');
  if (o.pull) args.push('--pull');
  if (o.progress) args.push('--progress', o.progress);
  if (o.quiet) args.push('-q');
  args.push('-t', b.image, b.context);
  return build(files, args);
}

/** The secret files a service's build gets: each grant's file under the id BuildKit sees. */
export function serviceFiles(grants: readonly Grant[], pathOf: ReadonlyMap<string, string>): SecretFile[] {
  return grants.filter((g) => pathOf.has(g.source)).map((g) => ({ id: g.id, path: pathOf.get(g.source)! }));
}

/** Is Compose `version` ("2.26.1-4") at least `min`? An unknown version is not. */
export function composeAtLeast(version: string | undefined, [major, minor, patch]: readonly [number, number, number]): boolean {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return false;
  const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}

/**
 * `docker compose … build`. `progress` goes where `version` reads it: a global
 * option from Compose 2.19.0 (docker/compose#10690; later versions warn about
 * `build --progress`), a build option before (and when the version is unknown).
 */
export function composeArgv(o: {
  globalArgs: readonly string[];
  files: readonly string[];
  override: string;
  parallel?: number;
  buildArgs: readonly string[];
  services: readonly string[];
  progress?: string;
  version?: string;
}): string[] {
  const services = o.services.some((s) => s.startsWith('-')) ? ['--', ...o.services] : [...o.services];
  const progress = o.progress === undefined ? [] : ['--progress', o.progress];
  const global = composeAtLeast(o.version, [2, 19, 0]);
  return [
    'compose',
    ...(global ? progress : []),
    ...o.globalArgs,
    ...o.files.flatMap((f) => ['-f', f]),
    '-f', o.override,
    ...(o.parallel !== undefined ? ['--parallel', String(o.parallel)] : []),
    'build',
    ...(global ? [] : progress),
    ...o.buildArgs,
    ...services,
  ];
}

/** A value written with a YAML tag in front (`!override {…}`). */
export class Tagged {
  constructor(
    readonly tag: '!override',
    readonly value: Flow,
  ) {}
}
export type Flow = string | number | boolean | null | Flow[] | { [k: string]: Flow } | Tagged;

/** JSON with two-space indent; a Tagged value gets its tag before it (valid YAML flow style). */
export function flowText(v: Flow, indent = ''): string {
  if (v instanceof Tagged) return `${v.tag} ${flowText(v.value, indent)}`;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const inner = `${indent}  `;
    return `[\n${v.map((x) => `${inner}${flowText(x, inner)}`).join(',\n')}\n${indent}]`;
  }
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    const inner = `${indent}  `;
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${flowText(x, inner)}`).join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(v);
}

/** A top-level secret pointed at secbuild's file: merged, or replaced (`!override`) where the user's definition has other keys. */
function secretDef(secrets: Record<string, Flow>, tagged: string[], name: string, path: string | undefined, defs: ReadonlyMap<string, Record<string, unknown>>): void {
  if (path === undefined || name in secrets) return;
  const def = defs.get(name);
  const replace = def !== undefined && Object.keys(def).some((k) => k !== 'file');
  if (replace) tagged.push(`secrets.${name}`);
  secrets[name] = replace ? new Tagged('!override', { file: path }) : { file: path };
}

/**
 * The override of `compose up`: each provided top-level secret as a `file:`
 * secret on secbuild's file, and `run` (the run directory's name) as the
 * RUN_LABEL (src/run/keeper.ts) of each service in `label.services`.
 */
export function runtimeOverride(
  pathOf: ReadonlyMap<string, string>,
  defs: ReadonlyMap<string, Record<string, unknown>>,
  label: { services: readonly string[]; run: string } = { services: [], run: '' },
): { text: string; tagged: string[] } {
  const tagged: string[] = [];
  const secrets: Record<string, Flow> = {};
  for (const [name, path] of pathOf) secretDef(secrets, tagged, name, path, defs);
  const services: Record<string, Flow> = Object.fromEntries(label.services.map((s) => [s, { labels: { [RUN_LABEL]: label.run } }]));
  return { text: `${flowText(label.services.length > 0 ? { services, secrets } : { secrets })}\n`, tagged };
}

/** `docker compose <files> [-f OVERRIDE] up|down [options] [SERVICE…]`. */
export function composeRunArgv(o: { globalArgs: readonly string[]; files: readonly string[]; override?: string; command: 'up' | 'down'; args: readonly string[]; services: readonly string[] }): string[] {
  const services = o.services.some((s) => s.startsWith('-')) ? ['--', ...o.services] : [...o.services];
  return ['compose', ...o.globalArgs, ...o.files.flatMap((f) => ['-f', f]), ...(o.override ? ['-f', o.override] : []), o.command, ...o.args, ...services];
}

export interface OverrideInput {
  builds: readonly ServiceBuild[];
  /** Secret file by compose secret name (the grant's source). */
  pathOf: ReadonlyMap<string, string>;
  /** Top-level secret definitions in the user's compose files. */
  composeDefs: ReadonlyMap<string, Record<string, unknown>>;
  /** Per service with a cache policy: the derived Dockerfile and the build-args that carry the policies. */
  derived?: ReadonlyMap<string, { dockerfile: string; args: ReadonlyArray<[string, string]> }>;
  /** secbuild's agent socket per ssh id: a service naming one gets its build.ssh replaced. */
  sockets?: ReadonlyMap<string, string>;
}

/**
 * The override: each used top-level secret points at secbuild's file; a
 * service's `build.secrets` is rewritten only when an entry must change (an
 * absolute target dropped, an optional secret absent). `tagged` says whether
 * `!override` was needed (Compose 2.24.4+).
 */
export function composeOverride(o: OverrideInput): { text: string; tagged: string[] } {
  const tagged: string[] = [];
  const secrets: Record<string, Flow> = {};
  for (const b of o.builds) for (const g of b.grants) secretDef(secrets, tagged, g.source, o.pathOf.get(g.source), o.composeDefs);
  const services: Record<string, Flow> = {};
  for (const b of o.builds) {
    const build: Record<string, Flow> = {};
    const derived = o.derived?.get(b.service);
    // A scalar replaces the user's dockerfile:, and args merge by name (Compose's merge rules).
    if (derived) Object.assign(build, { dockerfile: derived.dockerfile, args: Object.fromEntries(derived.args) });
    if (b.grants.some((g) => g.droppedTarget !== undefined || !o.pathOf.has(g.source))) {
      const entries: Flow[] = b.grants.filter((g) => o.pathOf.has(g.source)).map((g) => (g.id === g.source ? g.source : { source: g.source, target: g.id }));
      tagged.push(`services.${b.service}.build.secrets`);
      build.secrets = new Tagged('!override', entries);
    }
    if (Object.keys(build).length > 0) services[b.service] = { build };
  }
  for (const b of o.builds) {
    const ssh = serviceSsh(b.ssh, o.sockets);
    if (ssh.every((e, i) => e === b.ssh[i])) continue;
    tagged.push(`services.${b.service}.build.ssh`);
    const service = (services[b.service] ??= { build: {} }) as { build: Record<string, Flow> };
    service.build.ssh = new Tagged('!override', ssh);
  }
  const doc: Record<string, Flow> = {};
  if (Object.keys(services).length > 0) doc.services = services;
  doc.secrets = secrets;
  return { text: `${flowText(doc)}\n`, tagged };
}
