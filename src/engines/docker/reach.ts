/**
 * (reach.ts: whether the daemon docker would address answers; daemon.ts: which daemon --context/-H choose.)
 * Whether a Docker daemon answers where the docker CLI will connect — asked
 * before any provider runs (a `cmd:` reference is not run for a build that
 * cannot start), at the cost of one socket connect: no docker process.
 *
 * Where docker connects is decided as docker/cli decides it
 * (cli/command/cli.go `resolveContextName`, cli/context/store): `-H`, else
 * `--context`, else DOCKER_HOST, else DOCKER_CONTEXT, else the config's
 * `currentContext` ($DOCKER_CONFIG or ~/.docker/config.json), else the
 * default socket unix:///var/run/docker.sock. A context's endpoint is in
 * `contexts/meta/<sha256 of its name>/meta.json` (hashed by ../../util/hmac.ts:
 * node:crypto would cost every build ~1 ms to load).
 *
 * Only a definite answer refuses: no socket file, connection refused,
 * permission denied, an unknown host. An ssh://, fd:// or npipe:// endpoint, a
 * context secbuild cannot read, a slow TCP connect, or a named buildx builder
 * (which need not be the daemon) is left to docker.
 */
import { connect } from 'node:net';
import { join } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { sha256 } from '../../util/hmac.js';
import { configDir, readConfigText } from './config.js';

/** No daemon answers where docker would connect: exit 2, before any secret is resolved. */
export class DaemonUnreachableError extends UsageError {
  static override readonly kind: string = 'DaemonUnreachableError';
}

export const DEFAULT_HOST = 'unix:///var/run/docker.sock';

export interface Endpoint {
  /** e.g. unix:///var/run/docker.sock, tcp://10.0.0.5:2375 */
  host: string;
  /** Where it was chosen, for the message: "DOCKER_HOST", 'docker context "rootless"', … */
  from: string;
  /** The docker context it comes from, if any. */
  context?: string;
  /** A context's tcp:// endpoint: whether docker speaks TLS to it (skip-tls-verify, or TLS files in the context store). */
  tls?: boolean;
}

/** docker's global flags, when the command line gives them. */
export interface DaemonFlags {
  host?: string;
  context?: string;
}

export type ReadText = (path: string) => string | undefined;

/** The endpoint docker would use, or undefined when secbuild cannot tell (a context it cannot read). */
export function dockerEndpoint(env: NodeJS.ProcessEnv, flags: DaemonFlags = {}, read: ReadText = readConfigText): Endpoint | undefined {
  if (flags.host) return { host: flags.host, from: '-H' };
  let context: string | undefined;
  let from: string;
  if (flags.context) [context, from] = [flags.context, `--context ${flags.context}`];
  else if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, from: 'DOCKER_HOST' };
  else if (env.DOCKER_CONTEXT) [context, from] = [env.DOCKER_CONTEXT, `DOCKER_CONTEXT=${env.DOCKER_CONTEXT}`];
  else {
    const text = read(join(configDir(env), 'config.json'));
    let current: unknown;
    try {
      current = text === undefined ? undefined : (JSON.parse(text) as { currentContext?: unknown }).currentContext;
    } catch {
      return undefined;
    }
    if (typeof current === 'string' && current) [context, from] = [current, `docker context "${current}" (docker context use)`];
    else return { host: DEFAULT_HOST, from: 'the default, as neither DOCKER_HOST nor a docker context is set' };
  }
  if (context === 'default') return { host: DEFAULT_HOST, from: from!, context };
  const id = sha256(Buffer.from(context, 'utf8')).toString('hex');
  const meta = read(join(configDir(env), 'contexts', 'meta', id, 'meta.json'));
  try {
    const docker = meta === undefined ? undefined : (JSON.parse(meta) as { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } }).Endpoints?.docker;
    const host = docker?.Host;
    if (typeof host !== 'string' || !host) return undefined;
    if (!/^tcp:\/\//i.test(host)) return { host, from: from!, context };
    // docker reads a context's TLS from its store only (DOCKER_TLS_VERIFY is for DOCKER_HOST): docker/cli context/docker/load.go
    const pem = (f: string) => read(join(configDir(env), 'contexts', 'tls', id, 'docker', f)) !== undefined;
    return { host, from: from!, context, tls: docker?.SkipTLSVerify === true || pem('ca.pem') || pem('cert.pem') };
  } catch {
    return undefined;
  }
}

/**
 * The daemon's Unix socket, when docker would reach it through one: verify
 * reads an image's archive from it (src/verify/api-save.ts) instead of through
 * `docker save`. Undefined for any other endpoint, one secbuild cannot tell,
 * and with SECBUILD_VERIFY_VIA=cli.
 */
export function archiveSocket(env: NodeJS.ProcessEnv): string | undefined {
  if (env.SECBUILD_VERIFY_VIA === 'cli') return undefined;
  const host = dockerEndpoint(env)?.host;
  return host === undefined ? undefined : /^unix:\/\/(\/.+)$/i.exec(host)?.[1];
}

/** Why nothing answers at `host` (a sentence fragment), or undefined when something does or it cannot be told. */
export function probe(host: string, timeoutMs = 2000): Promise<string | undefined> {
  let target: { path: string } | { host: string; port: number };
  const unix = /^unix:\/\/(.+)$/i.exec(host);
  const tcp = /^tcp:\/\/\[?([^\]/]+?)\]?:(\d+)\/?$/i.exec(host);
  if (unix) target = { path: unix[1]! };
  else if (tcp) target = { host: tcp[1]!, port: Number(tcp[2]) };
  else return Promise.resolve(undefined);
  return new Promise((done) => {
    const socket = connect(target);
    const end = (why: string | undefined) => {
      socket.destroy();
      done(why);
    };
    socket.setTimeout(timeoutMs, () => end(undefined));
    socket.once('connect', () => end(undefined));
    socket.once('error', (err: NodeJS.ErrnoException) => end(reasonOf(err.code, 'path' in target ? target.path : undefined)));
  });
}

function reasonOf(code: string | undefined, path: string | undefined): string | undefined {
  switch (code) {
    case 'ENOENT':
      return `there is no socket at ${path}`;
    case 'ECONNREFUSED':
      return 'the connection was refused';
    case 'EACCES':
    case 'EPERM':
      return `permission denied on ${path}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host is unreachable';
    default:
      return undefined;
  }
}

/** A buildx builder the run names (--builder, BUILDX_BUILDER, `docker buildx use`) other than the daemon's own. */
function namedBuilder(env: NodeJS.ProcessEnv, dockerArgs: readonly string[], read: ReadText): boolean {
  const at = dockerArgs.indexOf('--builder');
  const named = (at >= 0 ? dockerArgs[at + 1] : dockerArgs.find((a) => a.startsWith('--builder='))?.slice(10)) ?? env.BUILDX_BUILDER;
  if (named) return named !== 'default';
  const current = read(join(configDir(env), 'buildx', 'current'));
  try {
    const name = current === undefined ? undefined : (JSON.parse(current) as { Name?: unknown }).Name;
    return typeof name === 'string' && name !== '' && name !== 'default';
  } catch {
    return false;
  }
}

/** Throws DaemonUnreachableError when no daemon answers where docker would connect; one socket connect. */
export async function requireDaemon(env: NodeJS.ProcessEnv, opts: { flags?: DaemonFlags; dockerArgs?: readonly string[]; read?: ReadText } = {}): Promise<void> {
  const read = opts.read ?? readConfigText;
  const endpoint = dockerEndpoint(env, opts.flags, read);
  if (!endpoint) return;
  const why = await probe(endpoint.host);
  if (why === undefined || namedBuilder(env, opts.dockerArgs ?? [], read)) return;
  throw new DaemonUnreachableError(daemonMessage(endpoint, why));
}

export function daemonMessage(e: Endpoint, why: string): string {
  const fix = why.startsWith('permission denied')
    ? 'Add your user to the docker group (sudo usermod -aG docker $USER, then log in again)'
    : 'Start the daemon (sudo systemctl start docker)';
  return `no Docker daemon answers at ${e.host} (${e.from}): ${why}. ${fix}, or point DOCKER_HOST or DOCKER_CONTEXT at a running one; no secret was resolved.`;
}

/** What the docker client prints when it cannot reach its daemon (docker/cli, docker/docker client). */
const CLIENT_CANNOT_CONNECT = /Cannot connect to the Docker daemon|error during connect|Is the docker daemon running\?/i;

/**
 * When docker's last stderr line (`said`) says it could not reach its daemon:
 * the error that says so (exit 2), naming the endpoint; else undefined. For
 * a command that failed after the check above (an ssh:// endpoint, a daemon
 * that stopped meanwhile), so that a missing daemon never reads as a missing image.
 */
export function daemonUnreachableIn(said: string, docker: string, what: string, env: NodeJS.ProcessEnv): DaemonUnreachableError | undefined {
  if (!CLIENT_CANNOT_CONNECT.test(said)) return undefined;
  const e = dockerEndpoint(env);
  const where = e ? ` (${e.host}, ${e.from})` : '';
  return new DaemonUnreachableError(`${docker} could not reach the Docker daemon${where} to ${what}: ${said.replace(/[.\s]+$/, '')}; start it or point DOCKER_HOST or DOCKER_CONTEXT at a running one.`);
}
