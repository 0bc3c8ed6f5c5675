/**
 * Run-time secrets need the daemon on this machine: `secbuild run` and
 * `compose up` hand the container a bind mount of a file in secbuild's tmpfs
 * run directory, and a daemon elsewhere (DOCKER_HOST=ssh://… or tcp://…, a
 * context whose endpoint is one) would look the path up on its own disk.
 * Refused in one line naming the alternative, never worked around (copying
 * the value there would put it on that machine's disk). Where docker would
 * connect is decided by ./reach.ts, as docker decides it.
 */
import { UsageError } from '../../util/errors.js';
import { dockerEndpoint, type DaemonFlags } from './reach.js';

/** Endpoints on this machine: a Unix socket, an inherited descriptor, a Windows named pipe. */
const LOCAL = /^(unix|fd|npipe):\/\//i;

/** Throws a UsageError when docker would address a daemon on another machine (`what`: "secbuild run"). Pure but for reading docker's config. */
export function requireLocalDaemon(env: NodeJS.ProcessEnv, flags: DaemonFlags, what: string): void {
  const e = dockerEndpoint(env, flags);
  if (!e || LOCAL.test(e.host)) return;
  throw new UsageError(
    `${what} mounts secrets from a tmpfs file on this machine, which the daemon at ${e.host} (${e.from}) cannot see; run secbuild on the daemon's machine, or use a Swarm secret there (README "Run-time secrets": docker secret create through secbuild exec; Swarm keeps it encrypted in its Raft log on the managers' disks).`,
  );
}
