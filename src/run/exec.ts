/**
 * The one place where secbuild starts child processes.
 *
 * - `capture()` runs a short command and collects its output (execa, loaded
 *   lazily: the cached-build path never needs it).
 * - `spawnInherit()` starts docker with the terminal inherited and returns the
 *   ChildProcess so the caller can forward signals and wait for it.
 *
 * Argv never contains a secret value (only paths of secret files), so it may
 * be logged with SECBUILD_DEBUG=1. Children get the environment they are
 * given — callers pass `childEnv`, from which every variable secbuild read a
 * secret from has been removed.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { debug } from '../util/log.js';

export interface CaptureResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: Buffer;
  stderr: string;
  /** The binary could not be started at all (ENOENT, EACCES). */
  failedToStart: string | undefined;
  timedOut: boolean;
}

export interface CaptureOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  input?: Buffer | string;
  timeoutMs?: number;
  /** Let the child read the terminal (for a command that may prompt). */
  inheritStdin?: boolean;
}

export async function capture(file: string, args: readonly string[], opts: CaptureOptions): Promise<CaptureResult> {
  const { execa } = await import('execa');
  debug(`exec: ${[file, ...args].join(' ')}`);
  const result = await execa(file, args, {
    env: opts.env,
    extendEnv: false,
    cwd: opts.cwd,
    reject: false,
    stripFinalNewline: false,
    encoding: 'buffer',
    timeout: opts.timeoutMs,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: opts.inheritStdin ? 'inherit' : 'ignore' }),
  });
  const startError = result.failed && result.exitCode === undefined && !result.signal && !result.timedOut
    ? ((result.cause as NodeJS.ErrnoException | undefined)?.code ?? 'could not start')
    : undefined;
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: Buffer.from(result.stdout as Uint8Array),
    stderr: Buffer.from(result.stderr as Uint8Array).toString('utf8'),
    failedToStart: startError,
    timedOut: Boolean(result.timedOut),
  };
}

export function spawnInherit(
  file: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; stdio?: StdioOptions },
): ChildProcess {
  debug(`exec: ${[file, ...args].join(' ')}`);
  return spawn(file, args, { env: opts.env, stdio: opts.stdio ?? 'inherit' });
}

/** Waits for a spawned child: its exit code, or the signal that ended it, or why it never started. */
export function waitForExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }> {
  return new Promise((resolve) => {
    let settled = false;
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      resolve({ code: null, signal: null, error });
    });
    child.once('close', (code, signal) => {
      if (settled) return;
      settled = true;
      resolve({ code, signal });
    });
  });
}
