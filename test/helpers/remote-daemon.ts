/**
 * A second Docker daemon standing in for a remote BuildKit host (issue 12):
 * its own socket, data root, exec root and pid file in one temp dir, its own
 * network namespace, no bridge and no iptables rules (so it leaves the host's
 * network and the main daemon's docker0 alone; builds on it use
 * --network=none). Started once per e2e run by test/e2e/global-setup.ts,
 * given the busybox base image (`docker save | docker -H … load`) and stopped
 * by its pid; it starts its own containerd under its exec root.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BASE } from './cli.js';
import { alive, claim } from './fixture-dirs.js';

export interface RemoteDaemonInfo {
  /** unix://…/docker.sock, for DOCKER_HOST. */
  host: string;
  /** Everything the daemon writes: images, BuildKit's cache and state. */
  dataRoot: string;
  /** Its runtime state (containerd, runc bundles). */
  execRoot: string;
  pid: number;
}

function pipe(from: string[], to: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const a = spawn(from[0]!, from.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    const b = spawn(to[0]!, to.slice(1), { stdio: ['pipe', 'ignore', 'inherit'] });
    a.stdout!.pipe(b.stdin!);
    b.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${to.join(' ')} exited ${code}`))));
    a.on('error', reject);
    b.on('error', reject);
  });
}

function answers(docker: string, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = spawn(docker, ['-H', host, 'info'], { stdio: 'ignore' });
    c.on('close', (code) => resolve(code === 0));
    c.on('error', () => resolve(false));
  });
}

export async function startRemoteDaemon(docker: string): Promise<{ info: RemoteDaemonInfo; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-e2e-remote-'));
  const info: RemoteDaemonInfo = { host: `unix://${join(dir, 'docker.sock')}`, dataRoot: join(dir, 'data'), execRoot: join(dir, 'exec'), pid: 0 };
  const log = openSync(join(dir, 'dockerd.log'), 'a');
  // In a network namespace of its own: a dockerd started with --bridge=none
  // deletes any `docker0` it sees (moby's removeDefaultBridgeInterface), which
  // in the host's namespace is the main daemon's bridge. `unshare` execs
  // dockerd, so the pid is dockerd's.
  const child = spawn(
    'unshare',
    ['--net', '--', 'dockerd', '-H', info.host, '--data-root', info.dataRoot, '--exec-root', info.execRoot, '--pidfile', join(dir, 'docker.pid'), '--bridge=none', '--iptables=false', '--ip-masq=false'],
    { detached: true, stdio: ['ignore', log, log] },
  );
  child.unref();
  info.pid = child.pid!;
  claim(dir, [info.pid]);
  const stop = async () => {
    if (alive(info.pid)) process.kill(info.pid, 'SIGTERM');
    // dockerd stops its containerd and unmounts its layers before it exits; only then is the dir removed.
    for (let i = 0; i < 200 && alive(info.pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (!alive(info.pid)) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const end = Date.now() + 60_000;
    while (!(await answers(docker, info.host))) {
      if (Date.now() > end || !alive(info.pid)) {
        const tail = existsSync(join(dir, 'dockerd.log')) ? readFileSync(join(dir, 'dockerd.log'), 'utf8').split('\n').slice(-15).join('\n') : '';
        throw new Error(`the second dockerd did not answer on ${info.host}:\n${tail}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await pipe([docker, 'save', BASE], [docker, '-H', info.host, 'load', '-q']);
  } catch (err) {
    await stop();
    throw err;
  }
  return { info, stop };
}
