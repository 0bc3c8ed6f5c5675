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

/** When `pid` started (field 22 of /proc/PID/stat, clock ticks since boot), or '' when it is gone: a reused pid starts later. */
export function startTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/**
 * Records this process as the owner of `dir` and `pids` as the daemons to stop (by process group) if it dies
 * first, each with its start time, so that a later sweep never signals a process that has the pid since.
 */
export function claim(dir: string, pids: readonly number[]): void {
  // 0, 1 or a negative pid would make the sweep signal a whole process group that is not the daemon's.
  if (pids.some((p) => !(Number.isInteger(p) && p > 1))) throw new Error(`claim: ${pids.join(' ')} is not a list of daemon pids`);
  writeFileSync(join(dir, 'owner'), `${process.pid}\n${pids.map((p) => `${p}@${startTime(p)}`).join(' ')}\n`);
}

/**
 * What claim() wrote in `dir`: the owner and the daemon pids, only whole pids above 1
 * (kill(-0) would signal the sweeping run's own process group, kill(-1) every process).
 */
export function readClaim(dir: string): { owner: number; pids: number[]; started: Map<number, string> } | undefined {
  try {
    const [o = '', p = ''] = readFileSync(join(dir, 'owner'), 'utf8').split('\n');
    const started = new Map<number, string>();
    for (const word of p.split(' ').filter(Boolean)) {
      const [pid = '', at = ''] = word.split('@');
      const n = Number(pid);
      if (Number.isInteger(n) && n > 1) started.set(n, at);
    }
    return { owner: Number(o), pids: [...started.keys()], started };
  } catch {
    return undefined;
  }
}

/** Stops the daemons of fixture dirs whose owner is gone, and removes the dirs. */
export async function sweepOrphans(docker: string): Promise<void> {
  for (const name of readdirSync(tmpdir())) {
    if (!PREFIXES.some((p) => name.startsWith(p))) continue;
    const dir = join(tmpdir(), name);
    const claimed = readClaim(dir);
    if (!claimed) continue; // not claimed (yet): leave it to its run
    const { owner, pids, started } = claimed;
    if (!owner || alive(owner)) continue;
    for (const pid of pids) {
      // Only the daemon itself: a pid recorded without its start time, or started since, belongs to another process now.
      const at = started.get(pid);
      if (!at || startTime(pid) !== at) continue;
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
    const ours = (pid: number) => alive(pid) && startTime(pid) === started.get(pid);
    for (let i = 0; i < 100 && pids.some(ours); i++) await new Promise((r) => setTimeout(r, 100));
    if (!pids.some(ours)) rmSync(dir, { recursive: true, force: true });
    if (name.startsWith('secbuild-e2e-servers-')) {
      try {
        execFileSync(docker, ['rmi', '-f', `secbuild-e2e-debian-ca:${owner}`], { stdio: 'ignore', timeout: 30_000 });
      } catch {
        // not there
      }
    }
  }
}
