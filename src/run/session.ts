/**
 * A run session: the secret files' whole life. `withSecretFiles()` creates the
 * run directory, registers its removal on every exit path (return, throw,
 * process exit — which is also how the signal path in src/cli/exit.ts ends a
 * run that has no child to wait for) and starts the watchdog for the one path
 * it cannot see (SIGKILL) — all before the first byte is written. While the
 * session lives, every child the exec seam starts is announced to the
 * watchdog. Used by every command that runs docker with secret files.
 */
import type { ChildProcess } from 'node:child_process';
import { SignalExit, UsageError } from '../util/errors.js';
import { currentWatcher, interrupted, setWatcher, start, waitForExit, type StartOptions } from './exec.js';
import { listenAliveHandle, sweepStale } from './liveness.js';
import { RunDir, type FileContent, type SecretFile } from './rundir.js';
import { warn } from '../util/log.js';
import { Watchdog } from './watchdog.js';

/** A watchdog killed again and again is not restarted forever. */
const MAX_WATCHDOG_RESTARTS = 5;

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Starts the process that holds a run directory once secbuild has gone (src/run/keeper.ts); `alive`: the liveness socket's descriptor. */
export type StartKeeper = (dir: string, alive: number | undefined) => void;

export class Session {
  constructor(
    readonly dir: RunDir,
    private readonly handOver: (start: StartKeeper) => void = () => {
      throw new Error('this session cannot hand its directory over');
    },
  ) {}

  /** Starts a child (docker, or exec's command) whose life is tied to this session (signals are forwarded to it). */
  spawn(file: string, argv: readonly string[], opts: Omit<StartOptions, 'signals'>): ChildProcess {
    const signal = interrupted();
    if (signal) throw new SignalExit(signal);
    return start(file, argv, { ...opts, signals: 'forward' });
  }

  /**
   * Hands the run directory to a keeper that removes it when what uses it is
   * gone (`secbuild run -d`, `compose up -d`): `start` runs now; if it throws,
   * the session removes the directory as usual. Afterwards secbuild's own exit
   * paths leave the directory (and its liveness socket) alone.
   */
  handOff(start: StartKeeper): void {
    this.handOver(start);
  }

  /**
   * Waits for a child. Throws UsageError when it could not be started (`fix`
   * ends the sentence) and SignalExit when the run was interrupted meanwhile.
   */
  async wait(child: ChildProcess, file: string, fix = 'check --docker / SECBUILD_DOCKER'): Promise<ChildResult> {
    const result = await waitForExit(child);
    if (result.error) {
      throw new UsageError(`${file} could not be started (${result.error.code ?? result.error.message}); ${fix}.`);
    }
    const signal = interrupted();
    if (signal) throw new SignalExit(signal);
    return { code: result.code, signal: result.signal };
  }
}

/**
 * Runs `fn` with a watchdog that has no directory to remove — a lifeline that
 * stops the children `fn` starts if secbuild is killed (docker save during
 * verify, which would otherwise wait on the daemon long after secbuild is
 * gone). Inside a session, the session's watchdog does this already.
 */
export async function withLifeline<T>(fn: () => Promise<T>): Promise<T> {
  if (currentWatcher()) return fn();
  const lifeline = Watchdog.start('');
  setWatcher(lifeline);
  try {
    return await fn();
  } finally {
    setWatcher(undefined);
    lifeline?.release();
  }
}

/**
 * Writes `secrets` to a fresh run directory under `root`, runs `fn`, and
 * removes the directory whatever happens. `opts.fileName` names the files
 * (default `NN-id`, see RunDir.writeAll).
 */
export async function withSecretFiles<T>(
  root: string,
  secrets: readonly FileContent[],
  fn: (files: SecretFile[], session: Session) => Promise<T>,
  opts: { fileName?: (id: string, index: number) => string } = {},
): Promise<T> {
  await sweepStale(root);
  let dir: RunDir | undefined;
  let watchdog: Watchdog | undefined;
  let alive: { close(): void; keep(): number | undefined } = { close: () => {}, keep: () => undefined };
  let kept = false;
  const cleanup = () => {
    setWatcher(undefined);
    // Handed to a keeper: the directory and the socket that says it is alive are the keeper's now.
    if (!kept) {
      alive.close();
      dir?.remove();
    }
    watchdog?.release();
  };
  // Registered before the first byte is written; 'exit' is the backstop for every path that skips `finally`.
  process.on('exit', cleanup);
  let restarts = 0;
  const guard = (path: string): void => {
    const started = Watchdog.start(path, (pid) => {
      if (watchdog !== started || restarts++ >= MAX_WATCHDOG_RESTARTS) return;
      warn(`the watchdog (pid ${pid}) that removes the secret files if secbuild is killed ended unexpectedly; started another.`);
      guard(kept ? '' : path);
    });
    watchdog = started;
    setWatcher(started);
  };
  try {
    dir = RunDir.create(root);
    // Liveness other runs' sweeps can prove, across PID namespaces (./liveness.ts).
    alive = await listenAliveHandle(dir.path);
    guard(dir.path);
    const files = dir.writeAll(secrets, opts.fileName);
    const own = dir;
    return await fn(files, new Session(own, (startKeeper) => {
      // The watchdog first: a SIGKILL from here on must not stop the container nor remove its files.
      watchdog?.handOver();
      startKeeper(own.path, alive.keep());
      kept = true;
    }));
  } finally {
    cleanup();
    process.off('exit', cleanup);
  }
}
