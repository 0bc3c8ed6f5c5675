/**
 * Typed errors. Commands throw these; `src/main.ts` is the only place that
 * turns them into an exit code and a message. Messages are built from ids,
 * references, file names and flags — never from a secret's bytes.
 */

export const ExitCode = {
  ok: 0,
  usage: 2,
  resolve: 3,
  leak: 4,
} as const;

/**
 * Rarely used commands ship as separate bundles (scripts/build.mjs), each with
 * its own copy of this module, so `instanceof` cannot compare class identity.
 * Every error carries the kinds of its class chain under a registered symbol,
 * and `instanceof` checks that brand instead: a LeakError thrown by the verify
 * bundle is a SecbuildError to src/main.ts.
 */
const KINDS = Symbol.for('secbuild.error.kinds');

export class SecbuildError extends Error {
  static readonly kind: string = 'SecbuildError';
  readonly [KINDS]: readonly string[];

  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
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
  constructor(message: string, options?: { cause?: unknown }) {
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
}

/** One or more secrets could not be resolved: docker was not run. */
export class ResolveError extends SecbuildError {
  static override readonly kind: string = 'ResolveError';
  constructor(readonly failures: SecretFailure[]) {
    super(ResolveError.format(failures), ExitCode.resolve);
  }

  static format(failures: SecretFailure[]): string {
    if (failures.length === 1) {
      const [f] = failures;
      return `secret "${f!.id}" (${f!.source}): ${f!.reason}`;
    }
    return [
      `${failures.length} secrets could not be resolved:`,
      ...failures.map((f) => `  - "${f.id}" (${f.source}): ${f.reason}`),
    ].join('\n');
  }
}

/** A secret would reach the image, the argv or the log. */
export class LeakError extends SecbuildError {
  static override readonly kind: string = 'LeakError';
  constructor(message: string) {
    super(message, ExitCode.leak);
  }
}

/** docker exited non-zero: pass its code through, print nothing more. */
export class DockerExit extends SecbuildError {
  static override readonly kind: string = 'DockerExit';
  constructor(readonly code: number) {
    super(`docker exited with code ${code}`, code);
  }
}

/** secbuild was ended by a signal: exit 128+N after cleanup. */
export class SignalExit extends SecbuildError {
  static override readonly kind: string = 'SignalExit';
  constructor(readonly signal: NodeJS.Signals, signalNumber: number) {
    super(`interrupted by ${signal}`, 128 + signalNumber);
  }
}
