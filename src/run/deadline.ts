/**
 * The end of `capture`'s timeout (./exec.ts). execa's timeout kills the child,
 * then waits for its pipes to close; a process the command left behind that
 * holds them (`cmd:sh -c 'daemon & printf v'`, a store CLI's helper) would
 * hold the run as long as it lives. Soon after the timeout, the child's group
 * (when it has its own session: noTerminal) is killed and secbuild's ends of
 * the pipes are closed, so the timeout bounds the whole call.
 */
import type { ChildProcess } from 'node:child_process';

/** How long after its timeout a child's pipes are still waited for (its own SIGTERM handling). */
const PIPE_GRACE_MS = 1000;

/** Waits for `child` (a started execa call), ended as above soon after `timeoutMs` when one is given. */
export async function boundedWait<T>(child: Promise<T> & Pick<ChildProcess, 'pid' | 'stdout' | 'stderr'>, timeoutMs: number | undefined, ownGroup: boolean): Promise<T> {
  if (timeoutMs === undefined) return child;
  const stop = setTimeout(() => {
    if (ownGroup && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the group is gone
      }
    }
    child.stdout?.destroy();
    child.stderr?.destroy();
  }, timeoutMs + PIPE_GRACE_MS);
  try {
    return await child;
  } finally {
    clearTimeout(stop);
  }
}
