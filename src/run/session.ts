/**
 * A run session: the secret files' whole life. `withSecretFiles()` creates the
 * run directory, registers its removal on every exit path (return, throw,
 * SIGINT/SIGTERM/SIGHUP, process exit) and starts the watchdog for the one
 * path it cannot see (SIGKILL) — all before the first byte is written. Docker
 * processes are started through `session.spawn()` so that signals are
 * forwarded to them and the watchdog knows their pids. Used by `build` and by
 * anything else that runs docker with secret files (compose, verify).
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Secret } from '../secrets/secret.js';
import { SignalExit, UsageError } from '../util/errors.js';
import { spawnInherit, waitForExit } from './exec.js';
import { RunDir, sweepStale, type SecretFile } from './rundir.js';
import { Watchdog } from './watchdog.js';

const FORWARDED: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** How long docker gets to stop after a forwarded signal before it is killed. */
const STOP_GRACE_MS = 10_000;

const signalNumber = (s: NodeJS.Signals) => osConstants.signals[s] ?? 0;

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class Session {
  private readonly children = new Set<ChildProcess>();
  private caught: NodeJS.Signals | undefined;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: RunDir,
    private readonly watchdog: Watchdog | undefined,
  ) {}

  /** The signal that interrupted the run, if any. */
  get interrupted(): NodeJS.Signals | undefined {
    return this.caught;
  }

  /** Starts a docker process whose life is tied to this session. */
  spawn(file: string, argv: readonly string[], opts: { env: NodeJS.ProcessEnv; stdio?: StdioOptions }): ChildProcess {
    if (this.caught) throw new SignalExit(this.caught, signalNumber(this.caught));
    const child = spawnInherit(file, argv, opts);
    this.children.add(child);
    this.watchdog?.watch(child.pid);
    child.once('close', () => this.children.delete(child));
    child.once('error', () => this.children.delete(child));
    return child;
  }

  /**
   * Waits for a child. Throws UsageError when it could not be started and
   * SignalExit when the session was interrupted meanwhile.
   */
  async wait(child: ChildProcess, file: string): Promise<ChildResult> {
    const result = await waitForExit(child);
    if (result.error) {
      throw new UsageError(`${file} could not be started (${result.error.code ?? result.error.message}); check --docker / SECBUILD_DOCKER.`);
    }
    if (this.caught) throw new SignalExit(this.caught, signalNumber(this.caught));
    return { code: result.code, signal: result.signal };
  }

  /** Signal handler: forward to docker, or clean up and exit when nothing runs yet. */
  onSignal(signal: NodeJS.Signals, cleanup: () => void): void {
    if (this.caught) {
      // A second signal: stop waiting politely.
      for (const c of this.children) c.kill('SIGKILL');
      return;
    }
    this.caught = signal;
    if (this.children.size === 0) {
      cleanup();
      process.exit(128 + signalNumber(signal));
    }
    for (const c of this.children) c.kill(signal);
    this.killTimer = setTimeout(() => this.children.forEach((c) => c.kill('SIGKILL')), STOP_GRACE_MS);
    this.killTimer.unref();
  }

  stopTimers(): void {
    if (this.killTimer) clearTimeout(this.killTimer);
  }
}

/**
 * Writes `secrets` to a fresh run directory under `root`, runs `fn`, and
 * removes the directory whatever happens.
 */
export async function withSecretFiles<T>(
  root: string,
  secrets: readonly Secret[],
  fn: (files: SecretFile[], session: Session) => Promise<T>,
): Promise<T> {
  sweepStale(root);
  let session: Session | undefined;
  let dir: RunDir | undefined;
  let watchdog: Watchdog | undefined;
  const cleanup = () => {
    dir?.remove();
    watchdog?.release();
  };
  // Everything up to `fn` is synchronous, so a signal can only arrive once the session exists.
  const onSignal = (signal: NodeJS.Signals) => session?.onSignal(signal, cleanup);
  // Registered before the first byte is written; 'exit' is the backstop for anything missed.
  for (const s of FORWARDED) process.on(s, onSignal);
  process.on('exit', cleanup);
  try {
    dir = RunDir.create(root);
    watchdog = Watchdog.start(dir.path);
    session = new Session(dir, watchdog);
    const files = dir.writeAll(secrets);
    return await fn(files, session);
  } finally {
    session?.stopTimers();
    cleanup();
    for (const s of FORWARDED) process.off(s, onSignal);
    process.off('exit', cleanup);
  }
}
