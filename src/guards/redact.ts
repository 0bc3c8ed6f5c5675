/**
 * Streaming redaction of docker's output: every occurrence of a pattern
 * becomes `***`. Sits between a child's stdout/stderr pipe and ours:
 *
 *   const patterns = patternsFor(secrets);            // once, shared
 *   child.stdout.pipe(new RedactStream(patterns)).pipe(process.stdout);
 *   child.stderr.pipe(new RedactStream(patterns)).pipe(process.stderr);
 *
 * (`Redactor` is the same machine without the stream: `write`/`flush`/`end`
 * and an output callback.) Streams built from the same `patterns` array share
 * one compiled Matcher.
 *
 * - Matches that overlap or touch become one `***`; every other byte passes
 *   through unchanged and in order (binary safe). Output chunks may be views
 *   of the input chunk (no copy); only held-back bytes are copied.
 * - A secret split across chunks, down to 1-byte chunks, is still masked: the
 *   redactor holds back only the bytes that could still begin a match — the
 *   matcher's `partial`, at most maxLength - 1 bytes — and releases the rest of
 *   every chunk at once. Lines are not cut specially: after a newline nothing
 *   is held unless a multi-line secret's raw form continues there.
 * - Idle flush: when bytes are held and no data comes for `idleMs` (50 ms),
 *   they are released so a stalled build still shows its last line. A held
 *   tail is a proper prefix of a pattern; if it is at least MIN_MASK_LENGTH
 *   bytes long it is released as `***` (a possible false positive on an
 *   innocent line ending that happens to start like a secret, but never
 *   part of a secret printed by a program that paused mid-value); shorter
 *   tails are released as they are (≤ 3 bytes of a prefix: a secret of 4+
 *   bytes is never shown whole, and showing fewer is what the 4-byte floor
 *   already accepts). The matcher keeps
 *   its state, so if the rest of the secret follows it is masked too, and
 *   joins a `***` emitted at the idle flush. `end()` applies the same rule.
 * - counts(): per secret id, how many `***` contained at least one match of
 *   one of its patterns (every id with a pattern is present, 0 included). A
 *   tail masked at an idle flush is not attributed to any id.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { Matcher, type Scanner } from './matcher.js';
import { MIN_MASK_LENGTH, type Pattern } from '../secrets/forms.js';

export interface RedactorOptions {
  /** Release held-back bytes after this many ms without input; 0 disables the timer. Default 50. */
  idleMs?: number;
}

const MASK = Buffer.from('***');
const EMPTY = Buffer.alloc(0);
const compiled = new WeakMap<readonly Pattern[], Matcher>();

export class Redactor {
  private readonly scanner: Scanner;
  private readonly lengths: Int32Array;
  private readonly idOf: Int32Array; // pattern → index in `ids`
  private readonly ids: string[];
  private readonly perId: number[];
  private readonly stamp: Int32Array; // per id: last `***` it was counted in
  private readonly idleMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;

  // Stream offsets. Everything before `done` has been emitted (as itself or
  // inside a `***`); the bytes from `done` to the scanner's offset are held:
  // the tail of earlier input in `tail`, then the chunk being written.
  private done = 0;
  private tail: Buffer = EMPTY;
  private chunk: Uint8Array = EMPTY;
  private chunkStart = 0;
  private out: Buffer[] = [];
  // A `***` already emitted that a following match may still extend.
  private open = false;
  private openEnd = 0;
  private masks = 0;
  // Matches not emitted yet: sorted, disjoint, not touching, starting at or after `done`.
  private readonly pending: { start: number; end: number; ids: number[] }[] = [];

  constructor(
    patterns: readonly Pattern[],
    private readonly push: (chunk: Buffer) => void,
    options: RedactorOptions = {},
  ) {
    let matcher = compiled.get(patterns);
    if (!matcher) compiled.set(patterns, (matcher = new Matcher(patterns.map((p) => p.bytes))));
    this.scanner = matcher.createScanner();
    this.lengths = Int32Array.from(patterns, (p) => p.bytes.length);
    this.ids = [...new Set(patterns.map((p) => p.id))];
    this.idOf = Int32Array.from(patterns, (p) => this.ids.indexOf(p.id));
    this.perId = this.ids.map(() => 0);
    this.stamp = new Int32Array(this.ids.length).fill(-1);
    this.idleMs = options.idleMs ?? 50;
    this.onMatch = this.onMatch.bind(this);
  }

  /** Bytes currently held back (at most the longest pattern's length - 1). */
  get held(): number {
    return this.scanner.offset - this.done;
  }

  write(chunk: Uint8Array): void {
    if (this.ended) throw new Error('Redactor: write after end');
    if (chunk.length === 0) return;
    this.chunk = chunk;
    this.chunkStart = this.scanner.offset;
    this.scanner.feed(chunk, this.onMatch);
    this.advance(this.scanner.offset - this.scanner.partial);
    this.keepTail();
    this.emit();
    if (this.held === 0 || this.idleMs <= 0) this.clearTimer();
    else if (this.timer) this.timer.refresh();
    else this.timer = setTimeout(() => this.flush(), this.idleMs).unref();
  }

  /** Releases the held bytes now (what the idle timer does). */
  flush(): void {
    this.clearTimer();
    const pos = this.scanner.offset;
    if (this.held === 0) return;
    const partial = this.scanner.partial;
    if (partial >= MIN_MASK_LENGTH) this.addMatch(Math.max(pos - partial, this.done), pos, -1);
    this.advance(pos);
    this.keepTail();
    this.emit();
  }

  /** Flushes and stops: no timer remains, further writes throw. */
  end(): void {
    this.flush();
    this.ended = true;
  }

  /** Stops the idle timer without emitting anything (the stream was destroyed). */
  dispose(): void {
    this.clearTimer();
    this.ended = true;
  }

  counts(): Map<string, number> {
    return new Map(this.ids.map((id, i) => [id, this.perId[i]!]));
  }

  private onMatch(pattern: number, end: number): void {
    this.addMatch(Math.max(end - this.lengths[pattern]!, this.done), end, this.idOf[pattern]!);
    this.advance(end - this.scanner.partial);
  }

  private addMatch(start: number, end: number, id: number): void {
    const pending = this.pending;
    if (this.open && start <= this.openEnd) {
      // Extends the `***` already out; swallows whatever was pending after it.
      for (const p of pending) for (const i of p.ids) this.count(i);
      pending.length = 0;
      this.openEnd = this.done = Math.max(end, this.openEnd);
      this.count(id);
      return;
    }
    const ids = id >= 0 ? [id] : [];
    let last = pending.at(-1);
    while (last && start <= last.end) {
      start = Math.min(start, last.start);
      end = Math.max(end, last.end);
      ids.push(...last.ids);
      pending.pop();
      last = pending.at(-1);
    }
    pending.push({ start, end, ids });
  }

  /** Emits what no future match can change: everything before `safe`. */
  private advance(safe: number): void {
    if (this.open) {
      if (this.openEnd >= safe) return; // a match starting at `safe` would touch it
      this.open = false;
    }
    const pending = this.pending;
    while (pending.length > 0 && pending[0]!.start < safe) {
      const m = pending.shift()!;
      this.pass(this.done, m.start);
      this.out.push(MASK);
      this.masks++;
      for (const i of m.ids) this.count(i);
      this.done = m.end;
      if (m.end >= safe) {
        this.open = true;
        this.openEnd = m.end;
        return;
      }
    }
    if (this.done < safe) {
      this.pass(this.done, safe);
      this.done = safe;
    }
  }

  private count(id: number): void {
    if (id < 0 || this.stamp[id] === this.masks) return;
    this.stamp[id] = this.masks;
    this.perId[id]!++;
  }

  /** Queues bytes [from, to) for output, from the held tail and/or the current chunk. */
  private pass(from: number, to: number): void {
    if (from >= to) return;
    const tailStart = this.chunkStart - this.tail.length;
    if (from < this.chunkStart) this.out.push(this.tail.subarray(from - tailStart, Math.min(to, this.chunkStart) - tailStart));
    if (to > this.chunkStart) {
      const a = Math.max(from, this.chunkStart) - this.chunkStart;
      const c = this.chunk;
      this.out.push(Buffer.from(c.buffer, c.byteOffset + a, to - this.chunkStart - a));
    }
  }

  /** Copies the held bytes out of the chunk, which the caller may reuse. */
  private keepTail(): void {
    const pos = this.scanner.offset;
    const tailStart = this.chunkStart - this.tail.length;
    const held = Buffer.allocUnsafe(Math.max(pos - this.done, 0));
    for (let at = this.done, k = 0; at < pos; at++, k++) {
      held[k] = at < this.chunkStart ? this.tail[at - tailStart]! : this.chunk[at - this.chunkStart]!;
    }
    this.tail = held;
    this.chunk = EMPTY;
    this.chunkStart = pos;
  }

  private emit(): void {
    const out = this.out;
    if (out.length === 0) return;
    this.out = [];
    this.push(out.length === 1 ? out[0]! : Buffer.concat(out));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** A Transform that redacts with a `Redactor`; output order is input order. */
export class RedactStream extends Transform {
  readonly #redactor: Redactor;

  constructor(patterns: readonly Pattern[], options: RedactorOptions = {}) {
    super();
    this.#redactor = new Redactor(patterns, (chunk) => this.push(chunk), options);
  }

  counts(): Map<string, number> {
    return this.#redactor.counts();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#redactor.write(chunk);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.#redactor.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#redactor.dispose();
    callback(error);
  }
}
