import { spawnSync } from 'node:child_process';

/** A pid that no process has: a child that has exited and been reaped (what a dead run's directory name holds). */
export function deadPid(): number {
  for (;;) {
    const { pid } = spawnSync('true');
    try {
      process.kill(pid!, 0);
    } catch {
      return pid!;
    }
  }
}
