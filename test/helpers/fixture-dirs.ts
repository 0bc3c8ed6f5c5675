/**
 * Ownership of the e2e fixtures' temp dirs (the real servers, the second
 * dockerd): each dir records the pid of the run that owns it and the pids of
 * the daemons it started. A run killed before its teardown (SIGKILL, a
 * cancelled job) leaves its daemons behind; the next run's setup stops them
 * — by those recorded pids, only when the owner is gone — and removes the dir
 * and the owner's CA image (servers.ts names it after the owner's pid).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIXES = ['secbuild-e2e-servers-', 'secbuild-e2e-remote-'];

/** Is `pid` running? A zombie is not (where PID 1 reaps late, a killed process stays one for a while). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/**
 * An owner file: the owner's pid and the daemons' pids. Only pids above 1
 * count: kill(-0) would signal the sweeping run's own process group and
 * kill(-1) every process (an sshd pid file read before it was written gave 0).
 */
export function parseOwner(text: string): { owner: number; pids: number[] } {
  const [o = '', p = ''] = text.split('\n');
  const pid = (s: string) => (/^\d+$/.test(s) && Number(s) > 1 ? Number(s) : undefined);
  return { owner: pid(o.trim()) ?? 0, pids: p.split(' ').flatMap((s) => pid(s) ?? []) };
}

/** Records this process as the owner of `dir` and `pids` as the daemons to stop (by process group) if it dies first. */
export function claim(dir: string, pids: readonly number[]): void {
  writeFileSync(join(dir, 'owner'), `${process.pid}\n${pids.filter((p) => Number.isInteger(p) && p > 1).join(' ')}\n`);
}

/** Stops the daemons of fixture dirs whose owner is gone, and removes the dirs. */
export async function sweepOrphans(docker: string): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!PREFIXES.some((p) => name.startsWith(p))) continue;
    const dir = join(tmpdir(), name);
    let owner: number;
    let pids: number[];
    try {
      ({ owner, pids } = parseOwner(readFileSync(join(dir, 'owner'), 'utf8')));
    } catch {
      continue; // not claimed (yet): leave it to its run
    }
    if (!owner || alive(owner)) continue;
    for (const pid of pids) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // gone, or not a group leader
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // gone
        }
      }
    }
    for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    if (!pids.some(alive)) rmSync(dir, { recursive: true, force: true });
    if (name.startsWith('secbuild-e2e-servers-')) {
      try {
        execFileSync(docker, ['rmi', '-f', `secbuild-e2e-debian-ca:${owner}`], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // not there
      }
    }
  }
}
