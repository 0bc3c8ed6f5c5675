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

export class SecbuildError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad flags, config, template or preflight finding: docker was not run. */
export class UsageError extends SecbuildError {
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
  constructor(message: string) {
    super(message, ExitCode.leak);
  }
}

/** docker exited non-zero: pass its code through, print nothing more. */
export class DockerExit extends SecbuildError {
  constructor(readonly code: number) {
    super(`docker exited with code ${code}`, code);
  }
}

/** secbuild was ended by a signal: exit 128+N after cleanup. */
export class SignalExit extends SecbuildError {
  constructor(readonly signal: NodeJS.Signals, signalNumber: number) {
    super(`interrupted by ${signal}`, 128 + signalNumber);
  }
}
