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
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RedactStream } from '../guards/redact.js';
import type { ChildEnv } from '../run/env.js';
import type { Pattern } from '../secrets/forms.js';
import type { Report } from './report.js';
import type { ChildResult, Session } from '../run/session.js';
import { LineRewriteStream, type LineRewrite } from './line-rewrite.js';

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
  if (!patterns) {
    const child = session.spawn(file, argv, { env, onInterrupt, stdio: ['inherit', stdoutToStderr ? 'pipe' : 'inherit', 'pipe'] });
    const flow = Promise.all([
      stdoutToStderr ? pipeline(child.stdout!, new LineRewriteStream(rewrite!), process.stderr, { end: false }) : undefined,
      pipeline(child.stderr!, new LineRewriteStream(rewrite!), process.stderr, { end: false }),
    ]);
    flow.catch(() => {});
    return session.wait(child, file).finally(() => flow.catch(() => {}));
  }
  const child = session.spawn(file, argv, { env, onInterrupt, stdio: ['inherit', rawStdout ? 'inherit' : 'pipe', 'pipe'], noTerminal });
  const out = new RedactStream(patterns);
  const err = new RedactStream(patterns);
  const rewritten = (redact: RedactStream) => (rewrite ? [redact, new LineRewriteStream(rewrite)] : [redact]);
  // Data on stdout goes through StdoutSink (EPIPE ends the child as a closed pipe would); Compose's progress goes to stderr.
  const sink = rawStdout || stdoutToStderr ? undefined : new StdoutSink(() => child.kill('SIGPIPE'));
  const flows = Promise.all([
    sink ? pipeline(child.stdout!, out, sink).finally(() => sink.release()) : undefined,
    stdoutToStderr && !rawStdout ? pipeline([child.stdout!, ...rewritten(out), process.stderr], { end: false }) : undefined,
    pipeline([child.stderr!, ...rewritten(err), process.stderr], { end: false }),
  ]);
  flows.catch(() => {});
  const result = await session.wait(child, file, notStarted).finally(async () => {
    await flows.catch(() => {});
    if (report) {
      // Added up: compose runs several docker processes into one report.
      const occurrences = report.masking.occurrences;
      for (const counts of [out.counts(), err.counts()]) {
        for (const [id, n] of counts) occurrences[id] = (occurrences[id] ?? 0) + n;
      }
    }
  });
  return result;
}

/** Masked output to process.stdout; on EPIPE calls `onClosed` once and discards the rest, so the child's pipe stays open. */
class StdoutSink extends Writable {
  private gone = false;
  private readonly onError = (e: NodeJS.ErrnoException) => this.epipe(e);
  constructor(private readonly onClosed: () => void) {
    super();
    process.stdout.on('error', this.onError);
  }

  private epipe(e: NodeJS.ErrnoException | null | undefined): boolean {
    if (e?.code !== 'EPIPE') return false;
    if (!this.gone) this.onClosed();
    this.gone = true;
    return true;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.gone) return done();
    process.stdout.write(chunk, (e) => done(this.epipe(e) ? null : e));
  }

  /** Stops listening for process.stdout's errors (the child's output has ended). */
  release(): void {
    process.stdout.off('error', this.onError);
  }
}
