/**
 * Which docker to run and how it builds with BuildKit.
 *
 * Decided by what `docker build` is, not by whether the plugin answers: with
 * the buildx plugin installed, docker 23+'s `docker build` is buildx, but
 * docker 20.10's stays its classic front end although `docker buildx version`
 * answers (issue 23; verified with Debian's 20.10.24 and docker 28.2.2).
 * - `docker build --help` is buildx's ("docker buildx build", `--builder`)
 *   → the build goes through buildx (23+ with the plugin, or an older CLI
 *   whose config aliases build to buildx).
 * - otherwise a CLI older than 23 builds with BuildKit when DOCKER_BUILDKIT=1.
 * - otherwise (a 23+ CLI without the buildx plugin) there is no BuildKit: exit 2.
 *
 * What detection learns is cached per binary, keyed by its real path, size and
 * mtime and by the buildx plugin binaries it may run (engineInputs: every
 * plugin directory docker searches, cliPluginsExtraDirs included), in the
 * cache (src/run/cache.ts), so a cached build does not pay for two extra
 * docker processes on every run. A refusal is not cached. When the
 * chosen CLI is refused, the others on this machine are probed the same way
 * (./discover.ts) and the one that works is named in the error.
 */
import { join } from 'node:path';
import { cachedPerBinary, inputsKey } from '../../run/cache.js';
import { UsageError } from '../../util/errors.js';
import { withVars, type ChildEnv } from '../../run/env.js';
import { capture } from '../../run/exec.js';
import { locate } from '../locate.js';
import { configDir, pluginExtraDirs } from './config.js';
import { findWorkingDocker, noBuildKitAdvice } from './discover.js';

/** The docker CLI cannot build with BuildKit (a 23+ client without the buildx plugin). */
export class NoBuildKitError extends UsageError {
  static override readonly kind: string = 'NoBuildKitError';
}

export interface Engine {
  /** The binary, as found (real path). */
  docker: string;
  clientVersion: string;
  /** 'buildx': `docker build` is buildx; 'legacy-env': the classic front end of a CLI < 23 with DOCKER_BUILDKIT=1. */
  buildkit: 'buildx' | 'legacy-env';
  /** The buildx plugin's version when it answers (also on a 'legacy-env' CLI, whose build does not use it). */
  buildxVersion?: string;
}

export function findDocker(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  if (explicit === undefined && env.SECBUILD_DOCKER === '') throw new UsageError('SECBUILD_DOCKER is set but empty; unset it to use the docker on PATH, or set it to the docker binary.');
  const wanted = explicit ?? env.SECBUILD_DOCKER ?? 'docker';
  const from = explicit ? '--docker' : env.SECBUILD_DOCKER ? 'SECBUILD_DOCKER' : 'PATH';
  const found = locate(wanted, env.PATH);
  if (found) return found;
  throw new UsageError(
    from === 'PATH'
      ? 'docker was not found on PATH; install the docker CLI or point --docker / SECBUILD_DOCKER at it.'
      : `${from} ${wanted}: no executable file there; check the path.`,
  );
}

export function majorOf(version: string): number {
  const m = /^(\d+)\./.exec(version.trim());
  return m ? Number(m[1]) : NaN;
}

/** What the probes of one docker CLI printed. */
export interface BuildProbe {
  clientVersion: string;
  /** `docker buildx version` exited 0, and what it printed. */
  buildxOk: boolean;
  buildxOut: string;
  /** `docker build --help` (stdout and stderr), with DOCKER_BUILDKIT=1 as the build has it. */
  buildHelp: string;
}

/** `docker build` is buildx when its help is buildx's: "docker buildx build" or a `--builder` flag. */
const BUILDX_HELP = /docker buildx build|^\s*--builder\b/m;

/** How `docker build` builds with BuildKit, or undefined when it cannot (pure: the probe outputs in, the decision out). */
export function classifyBuild(p: BuildProbe): Pick<Engine, 'buildkit' | 'buildxVersion'> | undefined {
  const buildxVersion = p.buildxOk ? /v?(\d+\.\d+\.\d+\S*)/.exec(p.buildxOut)?.[1] : undefined;
  const withVersion = <T extends object>(o: T) => (buildxVersion ? { ...o, buildxVersion } : o);
  if (BUILDX_HELP.test(p.buildHelp)) return withVersion({ buildkit: 'buildx' as const });
  const major = majorOf(p.clientVersion);
  if (Number.isFinite(major) && major < 23) return withVersion({ buildkit: 'legacy-env' as const });
  return undefined;
}

/** Probes the binary (no cache). Throws UsageError when it cannot build with BuildKit. */
export async function probeEngine(docker: string, env: ChildEnv): Promise<Engine> {
  const probeEnv = buildEnv(env);
  const run = (args: string[]) => capture(docker, args, { env: probeEnv, timeoutMs: 15_000 });
  const [buildx, version, help] = await Promise.all([run(['buildx', 'version']), run(['version', '--format', '{{.Client.Version}}']), run(['build', '--help'])]);
  if (version.failedToStart) throw new UsageError(`${docker} could not be started (${version.failedToStart}); check --docker / SECBUILD_DOCKER.`);
  // `docker version` exits 1 when the daemon is down but still prints the client version first.
  const clientVersion = version.stdout.toString('utf8').trim().split('\n')[0] ?? '';
  const how = classifyBuild({
    clientVersion,
    buildxOk: buildx.exitCode === 0,
    buildxOut: buildx.stdout.toString('utf8'),
    buildHelp: help.stdout.toString('utf8') + help.stderr,
  });
  if (how) return { docker, clientVersion, ...how };
  throw new NoBuildKitError(`${docker} is docker ${clientVersion || '(unknown version)'} without the buildx plugin, so it cannot build with BuildKit.`);
}

/** One line for `doctor`: how this CLI's `docker build` uses BuildKit. */
export function describeBuildKit(e: Pick<Engine, 'buildkit' | 'buildxVersion' | 'clientVersion'>): string {
  if (e.buildkit === 'buildx') return `docker build is buildx${e.buildxVersion ? ` ${e.buildxVersion}` : ''} (BuildKit without DOCKER_BUILDKIT; --builder, --load and --output work)`;
  const plugin = e.buildxVersion ? `; the buildx plugin ${e.buildxVersion} answers \`docker buildx\`, but this CLI's \`docker build\` does not use it (no --builder or --load)` : '';
  return `CLI ${e.clientVersion} is older than 23: docker build is its classic front end and builds with BuildKit when DOCKER_BUILDKIT=1 (secbuild sets it)${plugin}`;
}

/** `err` with the advice of ./discover.ts appended: the other CLI here that can build, if any. */
export async function withAlternatives(err: NoBuildKitError, docker: string, env: ChildEnv): Promise<NoBuildKitError> {
  const other = await findWorkingDocker(docker, env.PATH ?? '', (d) => cachedEngine(d, env));
  return new NoBuildKitError(`${err.message} ${noBuildKitAdvice(other)}`, { cause: err });
}

/** The engine for this binary, from the cache when the binary has not changed; a refusal names the CLI that can. */
export async function detectEngine(docker: string, env: ChildEnv): Promise<Engine> {
  try {
    return await cachedEngine(docker, env);
  } catch (err) {
    throw err instanceof NoBuildKitError ? await withAlternatives(err, docker, env) : err;
  }
}

function cachedEngine(docker: string, env: ChildEnv): Promise<Engine> {
  return cachedPerBinary(env, 'engine.json', docker, engineInputs(env), () => probeEngine(docker, env));
}

/**
 * What else decides whether `docker buildx` works: DOCKER_CONFIG, its
 * config.json, and the docker-buildx binary in each directory the CLI looks
 * for plugins in (docker/cli cli-plugins/manager: the config's cli-plugins,
 * config.json's cliPluginsExtraDirs, then the system directories), keyed by
 * their stat: a plugin added, removed or replaced is probed again. No plugin
 * binary is read; config.json is read once, bounded (./config.ts).
 */
export function engineInputs(env: NodeJS.ProcessEnv): string {
  const config = configDir(env);
  const dirs = [join(config, 'cli-plugins'), ...pluginExtraDirs(env), ...SYSTEM_PLUGIN_DIRS];
  return inputsKey({ DOCKER_CONFIG: env.DOCKER_CONFIG, HOME: env.HOME }, [join(config, 'config.json'), ...dirs.map((d) => join(d, 'docker-buildx'))]);
}

/** docker/cli's defaultSystemPluginDirs on Linux (cli-plugins/manager/manager_unix.go). */
const SYSTEM_PLUGIN_DIRS = ['/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins'];

/** Environment for the build: secret sources removed, BuildKit switched on. */
export function buildEnv(childEnv: ChildEnv): ChildEnv {
  return withVars(childEnv, { DOCKER_BUILDKIT: '1' });
}
