/**
 * The exec seam: the one place where secbuild starts child processes, and the
 * owner of their lifecycle.
 *
 * - `capture()` runs a short command and collects its output, bounded
 *   (`maxBytes`; the child is killed past it). execa, loaded lazily (./execa.ts).
 * - `start()` starts a long-running child (docker build, docker save, compose)
 *   with the given stdio and returns it; `waitForExit()` waits for it.
 * - `spawnDetached()` starts the watchdog: in its own session, never killed
 *   by secbuild (it must outlive a SIGKILL of secbuild).
 *
 * Every child gets a `ChildEnv` (./env.ts), so no secret-source variable
 * reaches one. Every child is registered: killed when secbuild exits
 * (`'exit'`), announced to the watchdog (`setWatcher`) when one is running, and
 * on a signal (`interrupt()`, called by the signal path in src/cli/exit.ts)
 * either sent the same signal and waited for (`signals: 'forward'`, docker
 * builds: BuildKit then cancels cleanly) or killed (`'kill'`: probes, `cmd:`
 * providers, docker save). Argv never holds a secret value (only paths of
 * secret files), so it may be logged with SECBUILD_DEBUG=1.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { debug } from '../util/log.js';
import { boundedWait } from './deadline.js';
import { printableArgv } from './printable.js';
import type { ChildEnv } from './env.js';
import { RUN_MARK_VAR, runMark } from './mark.js';

/** Told of every child that starts and ends while a run directory exists (the watchdog). */
export interface Watcher {
  started(pid: number): void;
  exited(pid: number): void;
}

type Policy = 'forward' | 'kill';

/** How long a child gets to stop after a forwarded signal before it is killed. */
const STOP_GRACE_MS = 10_000;
/** Default bound on what `capture()` keeps of a child's stdout and of its stderr. */
const CAPTURE_MAX_BYTES = 4 << 20;

/**
 * The process's children and run state. Rarely used commands ship as separate
 * bundles, each with its own copy of this module (scripts/build.mjs), so the
 * state lives once per process under a registered symbol: the signal path in
 * the entry bundle sees the children the compose bundle started.
 */
interface Lifecycle {
  children: Map<ChildProcess, Policy>;
  /** Children started in their own session (`noTerminal`): a signal goes to their whole process group. */
  groups: WeakSet<ChildProcess>;
  watcher: Watcher | undefined;
  /** A forwarded child's own stop on a signal (StartOptions.onInterrupt). */
  stops: WeakMap<ChildProcess, (sig: NodeJS.Signals) => boolean>;
  caught: NodeJS.Signals | undefined;
  exitHook: boolean;
}
const LIFECYCLE = Symbol.for('secbuild.exec.lifecycle');
const life: Lifecycle = ((globalThis as { [LIFECYCLE]?: Lifecycle })[LIFECYCLE] ??= { children: new Map(), groups: new WeakSet(), stops: new WeakMap(), watcher: undefined, caught: undefined, exitHook: false });
// A state made by an older copy of this module (a bundle of another version in the same process) lacks the newer fields.
Object.assign(life, { groups: life.groups ?? new WeakSet(), stops: life.stops ?? new WeakMap() });
const children = life.children;

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (life.groups.has(child) && child.pid !== undefined) {
    try {
      process.kill(-child.pid, sig);
      return;
    } catch {
      // the group is gone: the child alone, below
    }
  }
  child.kill(sig);
}

function register(child: ChildProcess, policy: Policy, group = false): void {
  if (!life.exitHook) {
    life.exitHook = true;
    // A child must not outlive secbuild (the watchdog is not registered).
    process.on('exit', () => children.forEach((_, c) => signal(c, 'SIGTERM')));
  }
  if (group) life.groups.add(child);
  children.set(child, policy);
  const pid = child.pid;
  if (pid !== undefined) life.watcher?.started(pid);
  const done = () => {
    if (!children.delete(child)) return;
    if (pid !== undefined) life.watcher?.exited(pid);
  };
  child.once('exit', done);
  child.once('error', done);
}

/** `env` plus the run mark when a watcher runs (the one place a child's environment gets it). */
function marked(env: ChildEnv): Readonly<Record<string, string>> {
  return life.watcher ? { ...env, [RUN_MARK_VAR]: runMark() } : env;
}

/** The watcher told of children now, if any. */
export function currentWatcher(): Watcher | undefined {
  return life.watcher;
}

export function setWatcher(w: Watcher | undefined): void {
  life.watcher = w;
  if (w) for (const c of children.keys()) if (c.pid !== undefined) w.started(c.pid);
}

/**
 * A forwarded signal reaches the child and its own children, as Ctrl-C on a
 * terminal reaches the whole foreground process group: docker 20.10 runs a
 * CLI plugin (`docker compose`) as its child and does not pass signals on,
 * so the plugin kept building, holding secbuild's pipes (issue 23, found with
 * the real Compose v2). Linux's /proc/PID/task/TID/children; elsewhere only the child.
 */
function signalTree(child: ChildProcess, sig: NodeJS.Signals): void {
  // A child in a session of its own (CI on a terminal): its whole group is signalled.
  if (life.groups.has(child)) return signal(child, sig);
  const below: number[] = [];
  const walk = (pid: number) => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      below.push(...kids.split(' ').filter(Boolean).map(Number));
    }
  };
  if (child.pid !== undefined) walk(child.pid);
  child.kill(sig);
  for (const pid of below) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }
}

/** The signal that interrupted this run, if one did. */
export function interrupted(): NodeJS.Signals | undefined {
  return life.caught;
}

/**
 * A signal reached secbuild: kill the children that are killed, forward it to
 * those that get it. Returns 'waiting' when a forwarded child is still running
 * (the run ends when it does), 'idle' when nothing is left to wait for.
 * A second signal kills every child at once.
 */
export function interrupt(sig: NodeJS.Signals): 'waiting' | 'idle' {
  const again = life.caught !== undefined;
  life.caught ??= sig;
  let waiting = 0;
  for (const [child, policy] of children) {
    if (policy === 'kill' || again) signal(child, again ? 'SIGKILL' : 'SIGTERM');
    else {
      if (!life.stops.get(child)?.(sig)) signalTree(child, sig);
      waiting++;
    }
  }
  if (waiting > 0 && !again) {
    setTimeout(() => children.forEach((p, c) => p === 'forward' && signal(c, 'SIGKILL')), STOP_GRACE_MS).unref();
  }
  return waiting > 0 && !again ? 'waiting' : 'idle';
}

/**
 * The command failed: stop what it still runs (a `cmd:` provider still
 * resolving when engine detection failed, a probe), so secbuild exits now
 * instead of waiting for them.
 */
export function abandonChildren(): void {
  for (const child of children.keys()) signal(child, 'SIGTERM');
}

export interface CaptureResult {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: Buffer;
  stderr: string;
  /** The binary could not be started at all (ENOENT, EACCES). */
  failedToStart: string | undefined;
  timedOut: boolean;
  /** stdout or stderr went past `maxBytes`: the child was killed and the output cut there. */
  overflowed: boolean;
}

export interface CaptureOptions {
  env: ChildEnv;
  cwd?: string;
  input?: Buffer | string;
  timeoutMs?: number;
  /** Let the child read the terminal (for a command that may prompt). */
  inheritStdin?: boolean;
  /** Also show the child's stderr on secbuild's (a cmd: provider's prompt on a terminal); it is still captured. */
  showStderr?: boolean;
  /** Keep at most this many bytes of stdout (and of stderr); default 4 MiB. */
  maxBytes?: number;
  /** Give the child no terminal (see `start`); with inheritStdin and showStderr off. */
  noTerminal?: boolean;
}

export async function capture(file: string, args: readonly string[], opts: CaptureOptions): Promise<CaptureResult> {
  const { execa } = await import('./execa.js');
  debug(`exec: ${printableArgv([file, ...args]).join(' ')}`);
  const sub = execa(file, args, {
    env: marked(opts.env),
    extendEnv: false,
    cwd: opts.cwd,
    reject: false,
    cleanup: false, // this module kills children on exit
    stripFinalNewline: false,
    encoding: 'buffer',
    maxBuffer: opts.maxBytes ?? CAPTURE_MAX_BYTES,
    timeout: opts.timeoutMs,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: opts.inheritStdin ? 'inherit' : 'ignore' }),
    ...(opts.showStderr ? { stderr: ['pipe', 'inherit'] as const } : {}),
    detached: opts.noTerminal === true,
  });
  register(sub, 'kill', opts.noTerminal === true);
  const result = await boundedWait(sub, opts.timeoutMs, opts.noTerminal === true);
  const overflowed = Boolean((result as { isMaxBuffer?: boolean }).isMaxBuffer);
  const startError = result.failed && result.exitCode === undefined && !result.signal && !result.timedOut && !overflowed
    ? ((result.cause as NodeJS.ErrnoException | undefined)?.code ?? 'could not start')
    : undefined;
  return {
    exitCode: result.exitCode,
    signal: result.signal,
    stdout: Buffer.from((result.stdout ?? new Uint8Array()) as Uint8Array),
    stderr: Buffer.from((result.stderr ?? new Uint8Array()) as Uint8Array).toString('utf8'),
    failedToStart: startError,
    timedOut: Boolean(result.timedOut),
    overflowed,
  };
}

/**
 * The stdio of a child that gets no terminal: a stdin inherited from a
 * terminal becomes /dev/null (a terminal's descriptor is open for writing:
 * `>&0` would print on it).
 */
function withoutTerminal(stdio: StdioOptions): StdioOptions {
  const [stdin, ...rest] = typeof stdio === 'string' ? [stdio, stdio, stdio] : stdio;
  return [stdin === 'inherit' && process.stdin.isTTY ? 'ignore' : stdin, ...rest];
}

/**
 * Starts a long-running child; it ends with secbuild and hears of its signals (see the header).
 * `noTerminal` (CI, where a terminal is a log, output masked): the child runs in a new session
 * (setsid): no controlling terminal, /dev/tty cannot be opened (ENXIO), stdin is not the
 * terminal, what it prints goes through the caller's masked pipes; signals go to its group.
 */
export function start(file: string, args: readonly string[], opts: StartOptions): ChildProcess {
  debug(`exec: ${printableArgv([file, ...args]).join(' ')}`);
  const stdio = opts.stdio ?? 'inherit';
  const child = spawn(file, args, { env: marked(opts.env), stdio: opts.noTerminal ? withoutTerminal(stdio) : stdio, detached: opts.noTerminal === true });
  register(child, opts.signals ?? 'forward', opts.noTerminal === true);
  if (opts.onInterrupt) life.stops.set(child, opts.onInterrupt);
  return child;
}

/** `onInterrupt`: the child's own stop on a signal (`docker stop`: a container's PID 1 may ignore it); false: forward it after all. */
export interface StartOptions {
  env: ChildEnv; stdio?: StdioOptions; signals?: Policy; noTerminal?: boolean; onInterrupt?: (sig: NodeJS.Signals) => boolean;
}

/** Starts a child in its own session that secbuild never kills (the watchdog, the keeper), stdin a pipe; `keep` fds become its fd 3, 4, …. */
export function spawnDetached(file: string, args: readonly string[], opts: { env: ChildEnv; keep?: readonly number[] }): ChildProcess {
  const child = spawn(file, args, { env: opts.env, detached: true, stdio: ['pipe', 'ignore', 'ignore', ...(opts.keep ?? [])] });
  child.on('error', () => {});
  child.unref();
  return child;
}

/** Waits for a started child: its exit code, or the signal that ended it, or why it never started. */
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
