/**
 * Preflight for a build: find the Dockerfile the build will use, collect its
 * secret mounts in the reached stages, and compare them with the secrets
 * secbuild provides; refuse `env=` on a mount where the frontend that will
 * parse it does not take the key (src/check/mount-env.ts). Errors stop the
 * build (exit 2); warnings are printed.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import type { BuildArgs } from '../args/build.js';
import { isRemoteContext } from '../engines/docker/context.js';
import { defaultDockerfile, type EngineName } from '../engines/engine.js';
import { readCache, writeCache } from '../run/cache.js';
import { dockerfileTooLarge, isTooLarge, MAX_DOCKERFILE_BYTES, readBounded } from '../util/read.js';
import { checkSecretIds, mountedInputs, sshIdFindings, type Finding, type PreflightInput, type SecretMount, type SshMount } from '../check/secret-ids.js';
import { mountEnvErrors, needsDaemon, type Builder } from '../check/mount-env.js';
import type { EnvMount, Frontend } from '../dockerfile/types.js';
import type { ChildEnv } from '../run/env.js';
import { capture } from '../run/exec.js';
import { LeakError, UsageError } from '../util/errors.js';
import { info, warn } from '../util/log.js';
import type { SecretSpec } from '../secrets/spec.js';
import { isSshSpec, providedSshIds } from '../secrets/ssh.js';

/** A Dockerfile with no COPY or ADD cannot copy a credential into the image: check's leak rules are not loaded. */
export const COPY_OR_ADD = /^\s*(?:COPY|ADD)\s/im;

/** Bumped when the scan's logic changes, so old cache entries are not reused. */
const VERSION_KEY = 'preflight-5';

/** The Dockerfile path a build reads (without -f: src/engines/engine.ts defaultDockerfile), or why it cannot be checked. */
export function dockerfileFor(args: BuildArgs, cwd: string, engine: EngineName = 'docker'): { path?: string; skip?: string } {
  const context = args.dockerArgs[args.contextIndex];
  if (context === undefined) throw new UsageError('no build context given; add one at the end, for example: secbuild -t app .');
  if (args.file === '-') return { skip: 'the Dockerfile comes from stdin' };
  if (context === '-') return { skip: 'the build context comes from stdin' };
  if (isRemoteContext(context)) return { skip: `the build context is remote (${context})` };
  if (args.file) return { path: isAbsolute(args.file) ? args.file : resolvePath(cwd, args.file) };
  return { path: defaultDockerfile(resolvePath(cwd, context), engine) };
}

/** Why a context's own Dockerfile (no -f) cannot be read: the context itself is missing, or only its Dockerfile. */
export function noDockerfile(path: string, context: string): string {
  return existsSync(context) ? `no Dockerfile at ${path}; add -f PATH or check the build context.` : `no such build context: ${context} does not exist; check the path.`;
}

export function buildArgValues(args: BuildArgs, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args.buildArgs) {
    const eq = a.indexOf('=');
    if (eq === -1) {
      if (env[a] !== undefined) out[a] = env[a]!;
    } else out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

/** `warnings`: secbuild check's warning lines about the Dockerfile alone (src/check/index.ts dockerfileWarnings). */
export type Scan = { mounts: SecretMount[]; sshMounts: SshMount[]; notes: string[]; warnings: string[]; frontend: Frontend; envMounts: EnvMount[] };

/**
 * The Dockerfile model's secret and ssh mounts and notes, cached by everything
 * they depend on (Dockerfile text and path, target, build-args), so that a
 * repeated build does not load the parser. The cache holds ids and line
 * numbers only. On a miss the parsed model stays in memory, so check's rules
 * later in the same run do not parse again.
 */
export async function cachedMounts(input: PreflightInput, env: NodeJS.ProcessEnv, memo?: Map<string, Scan>, onDisk = true): Promise<Scan> {
  // One entry per Dockerfile path. The Dockerfile text and target are compared
  // exactly; build-arg values only by digest, so no value is written to disk
  // (nor is an inline Dockerfile, which may hold interpolated values: onDisk false).
  const name = `preflight/${fnv1a64(input.path)}.json`;
  const argsDigest = fnv1a64(JSON.stringify(Object.entries(input.buildArgs ?? {}).sort()));
  // `memo`: the scans of one run's builds (bake targets often share a Dockerfile), by everything the entry is compared on.
  const memoKey = `${name}\0${input.target ?? ''}\0${argsDigest}\0${input.dockerfile}`;
  const known = memo?.get(memoKey);
  if (known) return known;
  const hit = onDisk ? readCache<CacheEntry>(env, name) : undefined;
  if (hit && hit.v === VERSION_KEY && hit.dockerfile === input.dockerfile && hit.target === (input.target ?? null) && hit.args === argsDigest) {
    memo?.set(memoKey, hit.scan);
    return hit.scan;
  }
  const { parseDockerfile } = await import('../dockerfile/model.js');
  const { mounts, sshMounts, notes, frontend, envMounts } = await parseDockerfile(input);
  // The parsed model stays in memory: check's rules reuse it.
  const { dockerfileWarnings } = await import('../check/index.js');
  const scan: Scan = { mounts, sshMounts, notes, warnings: await dockerfileWarnings(input), frontend, envMounts };
  if (onDisk) writeCache(env, name, { v: VERSION_KEY, dockerfile: input.dockerfile, target: input.target ?? null, args: argsDigest, scan } satisfies CacheEntry);
  memo?.set(memoKey, scan);
  return scan;
}

interface CacheEntry {
  v: string;
  dockerfile: string;
  target: string | null;
  args: string;
  scan: Scan;
}

/** 64-bit FNV-1a as hex: a cache key, not a security measure (node:crypto costs ~5 ms to load). */
export function fnv1a64(text: string): string {
  let h = 0xcbf29ce484222325n;
  const bytes = Buffer.from(text, 'utf8');
  for (const b of bytes) h = BigInt.asUintN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

function unusedConfigBesideContext(args: BuildArgs, cwd: string, configPath: string | undefined): string | undefined {
  const context = args.dockerArgs[args.contextIndex];
  if (!context || context === '-' || isRemoteContext(context)) return undefined;
  for (const name of ['secbuild.yml', 'secbuild.yaml']) {
    const candidate = join(resolvePath(cwd, context), name);
    if (candidate !== configPath && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export interface PreflightResult {
  checked: boolean;
  mountedIds: string[];
  /** Declared template inputs that a reached RUN mounts: handed to docker too. */
  mount: string[];
  /** Warnings that did not stop the build (errors are thrown). */
  findings: Finding[];
  /** The Dockerfile as read, with its reached secret mounts (a cache policy derives from it: ./cache-args.ts); absent when skipped. */
  dockerfile?: { path: string; text: string; mounts: SecretMount[] };
  /** Why the Dockerfile was not read. */
  skip?: string;
}

/**
 * The builder whose own frontend parses a Dockerfile: podman, or docker's
 * daemon, asked (`ask`) only when an env= mount and no syntax line make its
 * version decide; without `ask` it is unknown.
 */
export async function builderFor(scan: Pick<Scan, 'frontend' | 'envMounts'>, engine: EngineName, ask?: () => Promise<Builder>): Promise<Builder> {
  if (engine === 'podman') return { engine: 'podman' };
  if (!needsDaemon(scan)) return { engine: 'docker', unknown: 'not asked: the syntax line decides' };
  return ask ? ask() : { engine: 'docker', unknown: 'no docker CLI to ask the daemon' };
}

/** The mount-env lines (src/check/mount-env.ts) as one UsageError: exit 2 before docker runs. */
export async function requireMountEnv(scan: Pick<Scan, 'frontend' | 'envMounts'>, path: string, engine: EngineName, ask?: () => Promise<Builder>): Promise<void> {
  if (scan.envMounts.length === 0) return;
  const lines = mountEnvErrors(scan, path, await builderFor(scan, engine, ask));
  if (lines.length > 0) throw new UsageError(lines.join('\n'));
}

/**
 * Docker's builder for a build with these arguments: a buildx builder the
 * build names (--builder, BUILDX_BUILDER; "default" is the daemon) is one
 * whose BuildKit secbuild cannot see; else the daemon `docker version` reaches
 * through the child's environment (DOCKER_HOST, DOCKER_CONTEXT), by its engine version.
 */
export async function askDocker(docker: string, dockerArgs: readonly string[], childEnv: ChildEnv): Promise<Builder> {
  const at = dockerArgs.indexOf('--builder');
  const named = (at >= 0 ? dockerArgs[at + 1] : dockerArgs.find((a) => a.startsWith('--builder='))?.slice(10)) ?? childEnv.BUILDX_BUILDER;
  if (named && named !== 'default') return { engine: 'docker', unknown: `the build uses buildx builder "${named}", whose BuildKit secbuild does not ask` };
  const r = await capture(docker, ['version', '--format', '{{.Server.Version}}'], { env: childEnv, timeoutMs: 15_000 });
  const version = r.exitCode === 0 ? r.stdout.toString('utf8').trim().split('\n')[0]! : '';
  return version ? { engine: 'docker', version } : { engine: 'docker', unknown: 'the daemon did not answer "docker version"' };
}

/**
 * One build of several (a compose service, a bake target), named `label`: its
 * Dockerfile scanned (cachedMounts), the notes said, the mount-env rule applied
 * (`ask`: docker's builder, asked once for all). A finding is pushed to
 * `errors` prefixed with the label, `--target` named as the build's own key
 * (`targetKey`); returns undefined when the scan itself failed.
 */
/** `o.inline`: a Dockerfile given as text (bake's dockerfile-inline, whose variables bake interpolated): never written to disk. */
export async function scanLabelled(input: PreflightInput, env: NodeJS.ProcessEnv, o: { label: string; targetKey: string; errors: string[]; ask?: () => Promise<Builder>; memo?: Map<string, Scan>; inline?: boolean }): Promise<Scan | undefined> {
  let scan: Scan;
  try {
    scan = await cachedMounts(input, env, o.memo, !o.inline);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    o.errors.push(`${o.label}: ${err.message.replace('--target', o.targetKey)}`);
    return undefined;
  }
  for (const n of scan.notes) info(`${o.label}: ${n}`);
  if (o.ask) {
    try {
      await requireMountEnv(scan, input.path, 'docker', o.ask);
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      o.errors.push(...err.message.split('\n').map((l) => `${o.label}: ${l}`));
    }
  }
  return scan;
}

export async function runPreflight(
  args: BuildArgs,
  specs: readonly SecretSpec[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  configPath?: string,
  engine: EngineName = 'docker',
  /** Asks docker's daemon for its version (askDocker), when an env= mount needs it. */
  ask?: () => Promise<Builder>,
): Promise<PreflightResult> {
  const where = dockerfileFor(args, cwd, engine);
  if (!where.path) {
    info(`preflight skipped: ${where.skip}, so secret ids were not checked against it.`);
    return { checked: false, mountedIds: [], mount: [], findings: [], skip: where.skip };
  }
  let text: string;
  try {
    text = (await readBounded(where.path, MAX_DOCKERFILE_BYTES)).toString('utf8');
  } catch (err) {
    if (isTooLarge(err)) throw new UsageError(dockerfileTooLarge(where.path), { cause: err });
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !args.file) throw new UsageError(noDockerfile(where.path, resolvePath(cwd, args.dockerArgs[args.contextIndex]!)));
    throw new UsageError(`cannot read Dockerfile ${where.path} (${code}); check -f.`);
  }
  const input = { dockerfile: text, path: where.path, target: args.target, buildArgs: buildArgValues(args, env) };
  const scan = await cachedMounts(input, env);
  const { mounts, sshMounts, notes, warnings } = scan;
  for (const n of notes) info(n);
  for (const w of warnings) warn(w);
  await requireMountEnv(scan, where.path, engine, ask);
  const plain = specs.filter((s) => !isSshSpec(s));
  const provided = new Set(plain.filter((s) => s.mount).map((s) => s.id));
  const inputs = new Set(plain.filter((s) => !s.mount).map((s) => s.id));
  const optional = new Set(plain.filter((s) => s.mount && s.optional).map((s) => s.id));
  const ssh = sshIdFindings(sshMounts, where.path, providedSshIds(specs, args.ssh), args.target).map(({ level, message }) => ({ level, message }));
  const findings = [...checkSecretIds(mounts, where.path, provided, optional, args.target, inputs), ...ssh];
  const errors = findings.filter((f) => f.level === 'error');
  for (const f of findings) if (f.level === 'warning') warn(f.message);
  if (errors.length > 0) {
    const lines = errors.map((e) => e.message);
    const beside = unusedConfigBesideContext(args, cwd, configPath);
    if (beside) lines.push(`${beside} sits next to the build context but was not read (secbuild reads ./secbuild.yml of the working directory); run from that directory or pass --config ${beside}.`);
    throw new UsageError(lines.join('\n'));
  }
  // secbuild check's error-level rules (credential-file-copied): stop before docker runs, exit 4.
  // A Dockerfile without COPY/ADD cannot copy a credential file: skip loading the rules.
  if (COPY_OR_ADD.test(text)) {
    const { preflightLeaks } = await import('../check/index.js');
    const leaks = await preflightLeaks(input, resolvePath(cwd, args.dockerArgs[args.contextIndex]!));
    if (leaks.length > 0) throw new LeakError(leaks.join('\n'));
  }
  return { checked: true, mountedIds: [...new Set(mounts.map((m) => m.id))], mount: [...mountedInputs(mounts, inputs)], findings, dockerfile: { path: where.path, text, mounts } };
}
