/**
 * Runs one docker process in a session, with its stdout and stderr passed
 * through the streaming redactor when patterns are given (else inherited).
 * `rawStdout`: docker's stdout is the build's artifact (`-o -`), a binary
 * that must arrive byte-exact: it is inherited, only stderr is masked.
 * `rewrite`: docker's stderr is also rewritten line by line after masking
 * (a derived Dockerfile's line numbers made the user's); it is piped even when
 * nothing is masked.
 * `notStarted` ends the sentence when the binary cannot be started.
 * `noTerminal`: the terminal is a log (CI): the child gets no terminal to
 * write to past the redactor (src/run/exec.ts `start`).
 * `stdoutToStderr`: docker's stdout carries progress, not data (Compose v2
 * writes `build`'s BuildKit progress there): it goes to secbuild's stderr,
 * masked and rewritten like docker's stderr.
 * Waits until the masked streams are fully written before returning.
 *
 * When the reader of secbuild's stdout goes away (`secbuild exec -- yes |
 * head -1`), the child is sent SIGPIPE — what it would have got writing to
 * that pipe itself — and its further output is discarded: it ends as it would
 * without secbuild (141, or its own code if it handles SIGPIPE), and secbuild
 * exits with that code after cleanup, with no error of its own.
 */
import type { Readable } from 'node:stream';
import { Redactor } from '../guards/redact.js';
import type { ChildEnv } from '../run/env.js';
import type { Pattern } from '../secrets/forms.js';
import type { Report } from './report.js';
import type { ChildResult, Session } from '../run/session.js';
import { LineRewriter, type LineRewrite } from './line-rewrite.js';

export interface MaskedRunOptions {
  rawStdout?: boolean;
  notStarted?: string;
  rewrite?: LineRewrite;
  noTerminal?: boolean;
  stdoutToStderr?: boolean;
  /** The child's own stop on a signal (src/run/exec.ts StartOptions). */
  onInterrupt?: (sig: NodeJS.Signals) => boolean;
}

export async function runMasked(
  session: Session,
  file: string,
  argv: readonly string[],
  env: ChildEnv,
  patterns: readonly Pattern[] | undefined,
  report?: Report,
  { rawStdout = false, notStarted, rewrite, noTerminal = false, stdoutToStderr = false, onInterrupt }: MaskedRunOptions = {},
): Promise<ChildResult> {
  if (!patterns && !rewrite) {
    const child = session.spawn(file, argv, { env, onInterrupt, stdio: ['inherit', stdoutToStderr ? 2 : 'inherit', 'inherit'] });
    return session.wait(child, file, notStarted);
  }
  // Unmasked, only rewritten: docker's stdout is its data and stays inherited unless it carries progress.
  const pipedStdout = patterns ? !rawStdout : stdoutToStderr;
  const child = session.spawn(file, argv, { env, onInterrupt, stdio: ['inherit', pipedStdout ? 'pipe' : 'inherit', 'pipe'], noTerminal: patterns ? noTerminal : undefined });
  // Data on stdout goes to StdoutSink (EPIPE ends the child as a closed pipe would); Compose's progress goes to stderr.
  const sink = pipedStdout && !stdoutToStderr ? new StdoutSink(() => child.kill('SIGPIPE')) : undefined;
  const out = pipedStdout ? flow(child.stdout!, patterns, rewrite && stdoutToStderr ? rewrite : undefined, sink ?? process.stderr) : undefined;
  const err = flow(child.stderr!, patterns, rewrite, process.stderr);
  const flows = Promise.all([out?.done.finally(() => sink?.release()), err.done]);
  return session.wait(child, file, notStarted).finally(async () => {
    await flows;
    if (report && patterns) {
      // Added up: compose runs several docker processes into one report.
      const occurrences = report.masking.occurrences;
      for (const counts of [out?.counts(), err.counts()]) {
        for (const [id, n] of counts ?? []) occurrences[id] = (occurrences[id] ?? 0) + n;
      }
    }
  });
}

interface Sink {
  write(chunk: Buffer | string): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/**
 * `source` → the redactor (when there are patterns) → the line rewrite (when
 * given) → `sink`, with no stream in between: a Transform per stage and
 * stream.pipeline's bookkeeping (its AbortController, and an AbortError with
 * a stack trace each time one finishes) cost a fully cached build 4-5 ms of
 * CPU (issue 28). The sink's backpressure pauses `source`. `done` resolves
 * when `source` has ended and the rest was written; an error on `source`
 * ends it too, and what the redactor held back is dropped, never written.
 */
function flow(source: Readable, patterns: readonly Pattern[] | undefined, rewrite: LineRewrite | undefined, sink: Sink): { done: Promise<void>; counts(): Map<string, number> } {
  const lines = rewrite ? new LineRewriter(rewrite) : undefined;
  const write = (chunk: Buffer | string | undefined) => {
    if (chunk === undefined || chunk.length === 0) return;
    if (!sink.write(chunk) && !source.isPaused()) {
      source.pause();
      sink.once('drain', () => source.resume());
    }
  };
  const pass = lines ? (chunk: Buffer) => write(lines.write(chunk)) : write;
  const redactor = patterns ? new Redactor(patterns, pass) : undefined;
  const done = new Promise<void>((resolve) => {
    source.on('data', (chunk: Buffer) => (redactor ? redactor.write(chunk) : pass(chunk)));
    source.once('end', () => {
      redactor?.end();
      if (lines) write(lines.end());
      resolve();
    });
    source.once('error', () => {
      redactor?.dispose();
      resolve();
    });
  });
  return { done, counts: () => redactor?.counts() ?? new Map() };
}

/** Masked output to process.stdout; on EPIPE calls `onClosed` once and discards the rest, so the child's pipe stays open. */
class StdoutSink implements Sink {
  private gone = false;
  private readonly onError = (e: NodeJS.ErrnoException) => this.epipe(e);
  constructor(private readonly onClosed: () => void) {
    process.stdout.on('error', this.onError);
  }

  private epipe(e: NodeJS.ErrnoException | null | undefined): boolean {
    if (e?.code !== 'EPIPE') return false;
    if (!this.gone) this.onClosed();
    this.gone = true;
    return true;
  }

  write(chunk: Buffer | string): boolean {
    if (this.gone) return true;
    return process.stdout.write(chunk, (e) => this.epipe(e));
  }

  once(event: 'drain', listener: () => void): this {
    process.stdout.once(event, listener);
    return this;
  }

  /** Stops listening for process.stdout's errors (the child's output has ended). */
  release(): void {
    process.stdout.off('error', this.onError);
  }
}
