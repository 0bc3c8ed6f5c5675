/**
 * The second Docker daemon (issues 12 and 23): Debian trixie's dockerd 26.1,
 * started by .ci/provision.sh (scripts/dockerd26-up.sh) on its own socket,
 * data root, exec root, bridge and containerd, and on tcp://127.0.0.1:PORT
 * with mutual TLS (a throw-away CA under its state dir). It stands in for a
 * remote BuildKit host and for "a modern engine". The tests do not start or
 * stop it (a dockerd started here with --bridge=none would delete the main
 * daemon's docker0); they only check that it answers and has the base image.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, sh } from './cli.js';

/** scripts/dockerd26-up.sh's STATE and provision.sh's TLS port (overridable like there). */
export const D26_STATE = process.env.SECBUILD_D26_STATE ?? '/tmp/secbuild-servers/docker26';
export const D26_TLS_PORT = process.env.SECBUILD_D26_TLS_PORT ?? '23762';

export interface RemoteDaemonInfo {
  /** unix://…/docker.sock, for DOCKER_HOST. */
  host: string;
  /** tcp://127.0.0.1:PORT, with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH=certPath. */
  tlsHost: string;
  /** ca.pem, cert.pem, key.pem of a client the daemon accepts. */
  certPath: string;
  /** Everything the daemon writes: images, BuildKit's cache and state. */
  dataRoot: string;
  /** Its runtime state (containerd, runc bundles). */
  execRoot: string;
  /** "26.1.5+dfsg1" */
  version: string;
}

export function remoteInfo(): RemoteDaemonInfo {
  return {
    host: `unix://${join(D26_STATE, 'docker.sock')}`,
    tlsHost: `tcp://127.0.0.1:${D26_TLS_PORT}`,
    certPath: join(D26_STATE, 'tls', 'client'),
    dataRoot: join(D26_STATE, 'data'),
    execRoot: join(D26_STATE, 'exec'),
    version: '',
  };
}

/** The environment that reaches the daemon over TCP with mutual TLS. */
export function tlsEnv(r: RemoteDaemonInfo): NodeJS.ProcessEnv {
  return { DOCKER_HOST: r.tlsHost, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: r.certPath };
}

/** Why the second daemon cannot be used (one clause), or undefined with its info filled in. */
export function probeRemoteDaemon(docker: string): { problem?: string; info: RemoteDaemonInfo } {
  const info = remoteInfo();
  const fix = 'run .ci/provision.sh (scripts/dockerd26-up.sh)';
  if (!existsSync(join(D26_STATE, 'docker.sock'))) return { problem: `the second daemon (dockerd 26.1) is not running: no ${D26_STATE}/docker.sock; ${fix}`, info };
  const env = { ...process.env, DOCKER_CONTEXT: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };
  try {
    info.version = execFileSync(docker, ['-H', info.host, 'version', '--format', '{{.Server.Version}}'], { env, timeout: 20_000, encoding: 'utf8' }).trim();
  } catch {
    return { problem: `the second daemon does not answer on ${info.host}; ${fix}`, info };
  }
  try {
    execFileSync(docker, ['image', 'inspect', BASE], { env: { ...env, ...tlsEnv(info) }, stdio: 'ignore', timeout: 20_000 });
  } catch {
    return { problem: `the second daemon does not answer with TLS on ${info.tlsHost} or lacks ${BASE}; ${fix}`, info };
  }
  return { info };
}

/** For test/e2e/global-setup.ts: the provisioned daemon's info; nothing to stop (provisioning owns it). */
export async function startRemoteDaemon(docker: string): Promise<{ info: RemoteDaemonInfo; stop: () => Promise<void> }> {
  const { problem, info } = probeRemoteDaemon(docker);
  if (problem) throw new Error(problem);
  return { info, stop: async () => undefined };
}

/**
 * The files under the daemon's data root and exec root that hold `needle`
 * (`grep -r -l -a -F`; -D skip leaves sockets and FIFOs alone), and grep's
 * errors. The daemon is shared: other tests' builds add and remove files while
 * grep walks, so a file or directory that vanished between listing and
 * reading ("No such file or directory", grep's exit 2) is not an error; any
 * other error is, and a match is a match whatever the exit code.
 */
export async function grepDaemonRoots(r: Pick<RemoteDaemonInfo, 'dataRoot' | 'execRoot'>, needle: string): Promise<{ files: string[]; errors: string[] }> {
  const g = await sh('grep', ['-r', '-l', '-a', '-F', '-D', 'skip', '-e', needle, r.dataRoot, r.execRoot], { env: { ...process.env, LC_ALL: 'C' } });
  const files = g.stdout.toString().split('\n').filter(Boolean);
  const errors = g.stderr.split('\n').filter((l) => l && !/: No such file or directory$/.test(l));
  // 0: a match (listed); 1: none; 2: an error, listed unless a file vanished.
  if (g.code !== 0 && g.code !== 1 && g.code !== 2) errors.push(`grep exited ${g.code}`);
  if (g.code === 0 && files.length === 0) errors.push('grep exited 0 (a match) but listed no file');
  return { files, errors };
}
