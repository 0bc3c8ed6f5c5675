/**
 * Run-time secrets need the daemon on this machine: `secbuild run` and
 * `compose up` hand the container a bind mount of a file in secbuild's tmpfs
 * run directory, and a daemon elsewhere (DOCKER_HOST=ssh://… or tcp://…, a
 * context whose endpoint is one) would look the path up on its own disk.
 * Refused in one line naming the alternative, never worked around (copying
 * the value there would put it on that machine's disk). Where docker would
 * connect is decided by ./reach.ts, as docker decides it.
 *
 * Docker Desktop is refused too: its daemon runs in a VM that sees only the
 * folders Desktop shares, never secbuild's tmpfs run directory. Recognised
 * where it is cheap and certain, from the endpoint alone (no docker process):
 * the context Desktop creates (`desktop-linux`) or its socket under
 * ~/.docker/desktop/ (Linux) or ~/.docker/run/ (macOS).
 */
import type { ChildEnv } from '../../run/env.js';
import { capture } from '../../run/exec.js';
import { UsageError } from '../../util/errors.js';
import { dockerEndpoint, type DaemonFlags } from './reach.js';

/** Endpoints on this machine: a Unix socket, an inherited descriptor, a Windows named pipe. */
const LOCAL = /^(unix|fd|npipe):\/\//i;

/** Docker Desktop's context name and sockets. */
const DESKTOP_CONTEXT = 'desktop-linux';
const DESKTOP_SOCKET = /^unix:\/\/.*\/\.docker\/(desktop|run)\/docker(-cli)?\.sock$/i;

/** Throws a UsageError when docker would address a daemon on another machine (`what`: "secbuild run"). Pure but for reading docker's config. */
export function requireLocalDaemon(env: NodeJS.ProcessEnv, flags: DaemonFlags, what: string): void {
  const e = dockerEndpoint(env, flags);
  if (!e) return;
  if (e.context === DESKTOP_CONTEXT || DESKTOP_SOCKET.test(e.host)) {
    throw new UsageError(
      `${what} mounts secrets from a tmpfs file on this machine, which Docker Desktop's daemon at ${e.host} (${e.from}) cannot see (it runs in a VM); use Docker Engine on this machine (docker context use default), or a Swarm secret (README "Run-time secrets").`,
    );
  }
  if (LOCAL.test(e.host)) return;
  throw new UsageError(
    `${what} mounts secrets from a tmpfs file on this machine, which the daemon at ${e.host} (${e.from}) cannot see; run secbuild on the daemon's machine, or use a Swarm secret there (README "Run-time secrets": docker secret create through secbuild exec; Swarm keeps it encrypted in its Raft log on the managers' disks).`,
  );
}

/**
 * The endpoint `docker` resolves with `env` now, as docker itself resolves it
 * (`docker context inspect` of the current context; docker 20.10 reads a set
 * but empty DOCKER_HOST as the default context, docker 28 as unset), for the
 * keeper to pin (src/run/keeper.ts); undefined when docker cannot say.
 */
export async function currentEndpoint(docker: string, env: ChildEnv): Promise<string | undefined> {
  const r = await capture(docker, ['context', 'inspect', '--format', '{{.Endpoints.docker.Host}}'], { env, timeoutMs: 20_000 }).catch(() => undefined);
  const host = r?.exitCode === 0 ? r.stdout.toString('utf8').trim() : '';
  return /^[a-z0-9+]+:\/\/\S+$/i.test(host) ? host : undefined;
}
