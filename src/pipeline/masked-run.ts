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
 */
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
}

export async function runMasked(
  session: Session,
  file: string,
  argv: readonly string[],
  env: ChildEnv,
  patterns: readonly Pattern[] | undefined,
  report?: Report,
  { rawStdout = false, notStarted, rewrite, noTerminal = false, stdoutToStderr = false }: MaskedRunOptions = {},
): Promise<ChildResult> {
  const toStdout = stdoutToStderr ? process.stderr : process.stdout;
  if (!patterns && !rewrite) {
    const child = session.spawn(file, argv, { env, stdio: ['inherit', stdoutToStderr ? 2 : 'inherit', 'inherit'] });
    return session.wait(child, file, notStarted);
  }
  if (!patterns) {
    const child = session.spawn(file, argv, { env, stdio: ['inherit', stdoutToStderr ? 'pipe' : 'inherit', 'pipe'] });
    const flow = Promise.all([
      stdoutToStderr ? pipeline(child.stdout!, new LineRewriteStream(rewrite!), process.stderr, { end: false }) : undefined,
      pipeline(child.stderr!, new LineRewriteStream(rewrite!), process.stderr, { end: false }),
    ]);
    flow.catch(() => {});
    return session.wait(child, file).finally(() => flow.catch(() => {}));
  }
  const child = session.spawn(file, argv, { env, stdio: ['inherit', rawStdout ? 'inherit' : 'pipe', 'pipe'], noTerminal });
  const out = new RedactStream(patterns);
  const err = new RedactStream(patterns);
  const rewritten = (redact: RedactStream) => (rewrite ? [redact, new LineRewriteStream(rewrite)] : [redact]);
  const flows = Promise.all([
    rawStdout ? undefined : pipeline([child.stdout!, ...(stdoutToStderr ? rewritten(out) : [out]), toStdout], { end: false }),
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
