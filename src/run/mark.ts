/**
 * The run's mark: the variable every child started while a watcher runs
 * carries (set by the exec seam, ./exec.ts). The watchdog (./watchdog.ts)
 * stops every process whose environment holds it, so a child it was never
 * told of (secbuild killed between spawn() and the `pid N` line) and the
 * children's own children are stopped too.
 */
export const RUN_MARK_VAR = 'SECBUILD_RUN';

const MARK = Symbol.for('secbuild.exec.mark');

/**
 * This process's mark: unique among the processes of the machine (pid, time,
 * randomness) and not a secret — it only names what the watchdog stops. Kept
 * once per process (the bundles of rarely used commands have their own copy
 * of this module). No node:crypto: this is on every run's path (issue 28).
 */
export function runMark(): string {
  const g = globalThis as { [MARK]?: string };
  g[MARK] ??= `${process.pid.toString(36)}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  return g[MARK];
}
