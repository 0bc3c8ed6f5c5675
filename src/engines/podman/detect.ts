/**
 * Which podman to run, and whether it can build with secbuild's secrets.
 *
 * One probe per binary, cached like docker's (src/run/cache.ts
 * `cachedPerBinary`, keyed by real path, size and mtime and by the
 * containers.conf/storage.conf files and variables: podmanInputs): `podman info
 * --format json` (version, rootless, graph root, OCI runtime, whether the
 * service is remote) and `podman build --help` (whether `--secret` exists,
 * podman 3.2+).
 *
 * Remote podman is refused — `podman --remote`, `podman-remote`,
 * CONTAINER_HOST / CONTAINER_CONNECTION, a podman machine or a default
 * connection (`host.serviceIsRemote`): in remote mode the client packs the
 * secret files into the build context it sends (podman #12415, #17382,
 * #19844, #28334), so they would leave the tmpfs run directory. Remote
 * mode is decided on every run, never from the cache (remoteMode).
 */
import { basename } from 'node:path';
import type { ChildEnv } from '../../run/env.js';
import { capture } from '../../run/exec.js';
import { isMemoryBacked } from '../../run/rundir.js';
import { cachedPerBinary, inputsKey } from '../../run/cache.js';
import { UsageError } from '../../util/errors.js';
import { locate } from '../locate.js';

export interface PodmanFacts {
  podman: string;
  version: string;
  rootless: boolean;
  /** Where podman keeps images and containers; buildah copies each mounted secret into a container directory there. */
  graphRoot: string;
  /** The OCI runtime buildah runs RUN steps with (runc, crun), for cleaning up after an interrupted build. */
  runtime: string;
  remote: boolean;
  secrets: boolean;
}

export function findPodman(explicit: string | undefined, env: NodeJS.ProcessEnv): string {
  const wanted = explicit ?? env.SECBUILD_PODMAN ?? 'podman';
  const found = locate(wanted, env.PATH);
  if (found) return found;
  const from = explicit ? '--podman' : env.SECBUILD_PODMAN ? 'SECBUILD_PODMAN' : 'PATH';
  throw new UsageError(
    from === 'PATH'
      ? 'podman was not found on PATH; install podman (apt-get install podman) or point --podman / SECBUILD_PODMAN at it.'
      : `${from} ${wanted}: no executable file there; check the path.`,
  );
}

const REMOTE_WHY =
  'in remote mode podman packs the secret files into the build context it sends to the service, so they would leave secbuild\'s private tmpfs files (podman #12415, #17382, #19844). Run secbuild where the local podman builds (rootful or rootless), e.g. inside the podman machine.';

/** Refuses remote podman named by the environment or the binary; `facts` (when probed) by the service itself. */
export function refuseRemote(podman: string, env: Readonly<Record<string, string | undefined>>, facts?: Pick<PodmanFacts, 'remote'>): void {
  const by = env.CONTAINER_HOST
    ? 'CONTAINER_HOST is set'
    : env.CONTAINER_CONNECTION
      ? 'CONTAINER_CONNECTION is set'
      : basename(podman).startsWith('podman-remote')
        ? `${podman} is podman-remote`
        : facts?.remote
          ? `${podman} is in remote mode and talks to a remote service (set by [engine] remote = true in a containers.conf, e.g. the one CONTAINERS_CONF names, by a podman machine or a default system connection: see podman system connection list)`
          : undefined;
  if (by) throw new UsageError(`secbuild does not build with remote podman: ${by}; ${REMOTE_WHY}`);
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Reads `podman info --format json` (pure, for tests). */
export function readInfo(podman: string, text: string): Omit<PodmanFacts, 'secrets'> {
  let doc: Json;
  try {
    doc = obj(JSON.parse(text));
  } catch {
    throw new UsageError(`\`${podman} info --format json\` did not print JSON; check that podman works (podman info).`);
  }
  const host = obj(doc.host);
  return {
    podman,
    version: str(obj(doc.version).Version),
    rootless: obj(host.security).rootless === true,
    graphRoot: str(obj(doc.store).graphRoot),
    runtime: str(obj(host.ociRuntime).path),
    remote: host.serviceIsRemote === true,
  };
}

/** Probes the binary (no cache). */
export async function probePodman(podman: string, env: ChildEnv): Promise<PodmanFacts> {
  const [info, help] = await Promise.all([
    capture(podman, ['info', '--format', 'json'], { env, timeoutMs: 30_000 }),
    capture(podman, ['build', '--help'], { env, timeoutMs: 15_000 }),
  ]);
  if (info.failedToStart) throw new UsageError(`${podman} could not be started (${info.failedToStart}); check --podman / SECBUILD_PODMAN.`);
  if (info.exitCode !== 0) {
    const said = info.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${info.exitCode}`;
    throw new UsageError(`\`${podman} info\` failed (${said}); podman must work here before secbuild can build with it.`);
  }
  return { ...readInfo(podman, info.stdout.toString('utf8')), secrets: /--secret\b/.test(help.stdout.toString('utf8')) };
}

/**
 * Whether podman is in remote mode on this run, from podman itself: `podman
 * version --format json` holds a `Server` part only in remote mode (measured
 * on 4.3.1: local 44 ms, the whole `podman info` probe 280 ms), and fails
 * when remote mode cannot reach its service. Asked on every run, never
 * cached: remote mode follows from variables, flags and every containers.conf
 * podman reads (CONTAINERS_CONF, `[engine] remote = true`), which change
 * without the binary changing.
 */
export async function remoteMode(podman: string, env: ChildEnv): Promise<Pick<PodmanFacts, 'remote'>> {
  const r = await capture(podman, ['version', '--format', 'json'], { env, timeoutMs: 15_000 });
  if (r.failedToStart) throw new UsageError(`${podman} could not be started (${r.failedToStart}); check --podman / SECBUILD_PODMAN.`);
  if (r.exitCode !== 0) {
    if (/Cannot connect to Podman|unable to connect to Podman/i.test(r.stderr)) return { remote: true }; // remote mode, its service unreachable
    const said = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.exitCode}`;
    throw new UsageError(`\`${podman} version\` failed (${said}); podman must work here before secbuild can build with it.`);
  }
  try {
    return { remote: obj(JSON.parse(r.stdout.toString('utf8'))).Server != null };
  } catch {
    throw new UsageError(`\`${podman} version --format json\` did not print JSON; check that podman works (podman version).`);
  }
}

/**
 * What else changes what `podman info` says (the OCI runtime the reaper runs,
 * the graph root, remoteness): the variables and the containers.conf and
 * storage.conf files podman reads (containers/common config `systemConfigs`,
 * containers/storage `DefaultConfigFile`), keyed by their stat.
 */
export function podmanInputs(env: NodeJS.ProcessEnv): string {
  const home = env.HOME ?? '';
  const user = env.XDG_CONFIG_HOME || `${home}/.config`;
  const vars = ['CONTAINERS_CONF', 'CONTAINERS_CONF_OVERRIDE', 'CONTAINERS_STORAGE_CONF', 'CONTAINER_HOST', 'CONTAINER_CONNECTION', 'XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR', 'HOME'];
  return inputsKey(Object.fromEntries([...vars.map((v) => [v, env[v]]), ['euid', String(process.geteuid?.())]]), [
    ...[env.CONTAINERS_CONF, env.CONTAINERS_CONF_OVERRIDE, env.CONTAINERS_STORAGE_CONF].filter((f): f is string => !!f),
    '/usr/share/containers/containers.conf',
    '/usr/share/containers/containers.conf.d/',
    '/etc/containers/containers.conf',
    '/etc/containers/containers.conf.d/',
    `${user}/containers/containers.conf`,
    `${user}/containers/containers.conf.d/`,
    '/usr/share/containers/storage.conf',
    '/etc/containers/storage.conf',
    `${user}/containers/storage.conf`,
  ]);
}

/**
 * The facts for this binary; refuses remote podman (asked on every run: see
 * remoteMode) and a podman without `build --secret`. The rest is cached per
 * binary and podmanInputs; a probe that finds remote mode throws, so a
 * refusal is never cached.
 */
export async function detectPodman(podman: string, env: ChildEnv): Promise<PodmanFacts> {
  refuseRemote(podman, env);
  refuseRemote(podman, env, await remoteMode(podman, env));
  const facts = await cachedPerBinary(env, 'podman.json', podman, podmanInputs(env), async () => {
    const probed = await probePodman(podman, env);
    refuseRemote(podman, env, probed);
    return probed;
  });
  if (!facts.secrets) throw new UsageError(`${podman} (podman ${facts.version || 'unknown version'}) has no \`build --secret\`; secbuild needs podman 3.2 or later.`);
  return facts;
}

/** Whether buildah's copies of the secrets (in the graph root) stay in memory. */
export const graphRootInMemory = (facts: Pick<PodmanFacts, 'graphRoot'>): boolean => facts.graphRoot !== '' && isMemoryBacked(facts.graphRoot);
