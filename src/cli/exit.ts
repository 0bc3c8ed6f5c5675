/**
 * How secbuild ends — the only module that prints a command's error and calls
 * `process.exit`. The code itself comes from the exit map, `exitCodeOf()` in
 * src/util/errors.ts.
 *
 * - `outcome(err)`: prints a thrown error (one or two plain sentences; a stack
 *   only with SECBUILD_DEBUG=1) and returns its exit code.
 * - The signal path: SIGINT, SIGTERM and SIGHUP are handled from the start of
 *   every command. The exec seam (src/run/exec.ts `interrupt`) forwards the
 *   signal to a running docker build and the run ends when docker does
 *   (128+N, through `outcome`); with nothing to wait for secbuild exits
 *   128+N at once, and the run directory's 'exit' hook removes the files.
 *   A second signal kills the children at once.
 * - An uncaught exception is an internal error (exit 70), after the same cleanup.
 */
import { interrupt } from '../run/exec.js';
import { exitCodeOf, isInternal, SecbuildError, signalExitCode } from '../util/errors.js';
import { debugError, endGroup, masked } from '../util/log.js';

const HANDLED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Prints what went wrong (nothing for success or an outcome already reported) and returns the exit code. */
export function outcome(err: unknown): number {
  endGroup();
  if (err instanceof SecbuildError) {
    if (!err.reported) process.stderr.write(masked(`secbuild: ${err.message}\n`));
    if (err.cause) debugError(err.cause);
  } else if (isInternal(err)) {
    const e = err as Error;
    process.stderr.write(`secbuild: internal error: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}. Rerun with SECBUILD_DEBUG=1 for details and report it.\n`);
    debugError(err);
  }
  return exitCodeOf(err);
}

function onSignal(signal: NodeJS.Signals): void {
  if (interrupt(signal) === 'waiting') return;
  endGroup();
  process.exit(signalExitCode(signal));
}

/** Installs the signal path and the uncaught-exception backstop for this process. */
export function installExitPaths(): void {
  for (const s of HANDLED) process.on(s, onSignal);
  process.on('uncaughtException', (err) => {
    process.exitCode = outcome(err);
    process.exit();
  });
}
