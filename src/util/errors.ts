/**
 * Typed errors and the one exit map. Commands throw these; `exitCodeOf()`
 * below is the only function that turns an outcome into an exit code, and
 * src/cli/exit.ts the only place that prints it and ends the process.
 * Messages are built from ids, references, file names and flags — never from
 * a secret's bytes.
 */
import { constants as osConstants } from 'node:os';

export const ExitCode = {
  ok: 0,
  /** doctor: a build cannot run here. (A failed docker build is docker's own code, usually 1 too.) */
  failure: 1,
  usage: 2,
  resolve: 3,
  leak: 4,
  /**
   * A bug in secbuild (an untyped error): EX_SOFTWARE of sysexits.h, a code no
   * docker build, typed outcome or signal (128+N) uses, so 1 always means
   * docker's (or the exec'd command's) own failure, never secbuild's.
   */
  internal: 70,
} as const;

/**
 * Rarely used commands ship as separate bundles (scripts/build.mjs), each with
 * its own copy of this module, so `instanceof` cannot compare class identity.
 * Every error carries the kinds of its class chain under a registered symbol,
 * and `instanceof` checks that brand instead: a LeakError thrown by the verify
 * bundle is a SecbuildError to src/cli/main.ts.
 */
const KINDS = Symbol.for('secbuild.error.kinds');

export interface ErrorOptions {
  cause?: unknown;
  /** The command already printed what went wrong (a table, findings, a verify report): print nothing more. */
  reported?: boolean;
}

export class SecbuildError extends Error {
  static readonly kind: string = 'SecbuildError';
  readonly [KINDS]: readonly string[];
  readonly reported: boolean;

  constructor(
    message: string,
    readonly exitCode: number,
    options: ErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reported = options.reported ?? false;
    const kinds: string[] = [];
    for (let c = new.target as unknown as { kind?: string } | null; c && Object.hasOwn(c, 'kind'); c = Object.getPrototypeOf(c)) kinds.push(c.kind!);
    this[KINDS] = kinds;
    this.name = kinds[0] ?? 'SecbuildError';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    const kinds = (value as { [KINDS]?: unknown } | null)?.[KINDS];
    return Array.isArray(kinds) && kinds.includes((this as unknown as { kind: string }).kind);
  }
}

/** Bad flags, config, template or preflight finding: docker was not run. */
export class UsageError extends SecbuildError {
  static override readonly kind: string = 'UsageError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.usage, options);
  }
}

export interface SecretFailure {
  /** Secret id (or template field) that failed. */
  id: string;
  /** Printable description of where it should have come from, e.g. `env:NPM_TOKEN`. */
  source: string;
  /** Why, in one sentence, with the fix. Never contains the value. */
  reason: string;
  /** A file built from other secrets (.netrc, .npmrc, template) that failed only because this input did: counted apart. */
  from?: string;
}

/** One or more secrets could not be resolved (or a keychain item is missing): docker was not run. */
export class ResolveError extends SecbuildError {
  static override readonly kind: string = 'ResolveError';
  readonly failures: SecretFailure[];
  constructor(failures: SecretFailure[] | string, options?: ErrorOptions) {
    super(typeof failures === 'string' ? failures : ResolveError.format(failures), ExitCode.resolve, options);
    this.failures = typeof failures === 'string' ? [] : failures;
  }

  static format(failures: SecretFailure[]): string {
    if (failures.length === 1) {
      const [f] = failures;
      return `secret "${f!.id}" (${f!.source}): ${f!.reason}`;
    }
    // The roots are counted; the files built from them are listed, not counted as more missing secrets.
    const roots = failures.filter((f) => f.from === undefined).length;
    const derived = failures.length - roots;
    const head = derived === 0 || roots === 0
      ? `${failures.length} secrets could not be resolved:`
      : `${roots} secret${roots === 1 ? '' : 's'} could not be resolved (${derived} more ${derived === 1 ? 'is' : 'are'} built from ${roots === 1 ? 'it' : 'them'}):`;
    return [
      head,
      ...failures.map((f) => `  - "${f.id}" (${f.source}): ${f.reason}`),
    ].join('\n');
  }
}

/** A secret would reach (or reached) the image, the argv or the log. */
export class LeakError extends SecbuildError {
  static override readonly kind: string = 'LeakError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.leak, options);
  }
}

/** The machine cannot do what was asked (doctor's verdict). */
export class NotReadyError extends SecbuildError {
  static override readonly kind: string = 'NotReadyError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, ExitCode.failure, options);
  }
}

/**
 * A child secbuild ran for the user (docker, or the command of `secbuild
 * exec`) exited non-zero or was ended by a signal: its code is secbuild's,
 * and nothing more is printed.
 */
export class ChildExit extends SecbuildError {
  static override readonly kind: string = 'ChildExit';
  constructor(
    readonly code: number,
    what = 'the command',
  ) {
    super(`${what} exited with code ${code}`, code, { reported: true });
  }

  /** The code a child's end stands for: its exit code, 128+N for signal N, 1 when neither is known. */
  static codeOf(result: { code: number | null; signal: NodeJS.Signals | null }): number {
    return result.signal ? signalExitCode(result.signal) : (result.code ?? 1);
  }
}

/** docker exited non-zero, or was ended by a signal: pass its code through, print nothing more. */
export class DockerExit extends ChildExit {
  static override readonly kind: string = 'DockerExit';
  constructor(code: number) {
    super(code, 'docker');
  }
}

/** secbuild was ended by a signal: exit 128+N after cleanup. */
export class SignalExit extends SecbuildError {
  static override readonly kind: string = 'SignalExit';
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`, signalExitCode(signal), { reported: true });
  }
}

/** 128 + the signal's number, as shells report a process ended by it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (osConstants.signals[signal] ?? 0);
}

/** Commander's own errors (unknown option, missing argument), duck-typed so commander need not load. */
function commanderCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; exitCode?: unknown } | null;
  if (typeof e?.code !== 'string' || !e.code.startsWith('commander.')) return undefined;
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version' || e.exitCode === 0) return ExitCode.ok;
  return ExitCode.usage;
}

/**
 * The exit map: the one function that decides secbuild's exit code. `undefined`
 * (the command returned) is success; a typed error maps to its code (usage 2,
 * resolve 3, leak 4, docker's own, 128+N); commander's errors are usage errors;
 * anything else is an internal error (70).
 */
export function exitCodeOf(outcome: unknown): number {
  if (outcome === undefined) return ExitCode.ok;
  if (outcome instanceof SecbuildError) return outcome.exitCode;
  return commanderCode(outcome) ?? ExitCode.internal;
}

/** Whether exitCodeOf() files this outcome as a bug rather than a typed outcome. */
export function isInternal(outcome: unknown): boolean {
  return outcome !== undefined && !(outcome instanceof SecbuildError) && commanderCode(outcome) === undefined;
}
