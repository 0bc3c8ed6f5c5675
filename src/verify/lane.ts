/**
 * Searching every byte of a tar stream: one scanner over the stream's raw
 * bytes — headers, content, padding and what follows the end blocks alike —
 * and the walker's spans (src/verify/tarwalk.ts `Span`) to say where each
 * match lies. The walker only attributes; nothing it skips goes unsearched.
 *
 * A `ByteLane` scans a stream as it is fed and keeps each match (pattern,
 * end offset) until its start can be placed: `locate(offset)` answers once
 * the walker has read the header that owns that byte (a match in a PAX
 * header waits for the header after it). A `SpanLog` keeps the spans a
 * match may still fall in — those that end less than the longest pattern
 * before the scan's position — so memory does not grow with the archive.
 * A nested tar whose bytes the outer lane already scans (an uncompressed
 * layer in `docker save`'s tar) has a log and no lane of its own: the outer
 * lane asks it, through the entry's sink (`Locator`), where a match lies.
 */
import type { Place, Search } from './search.js';
import { WideScanner } from './wide.js';
import type { Span } from './tarwalk.js';

/** Which part of a span an offset lies in. */
export type Region = 'header' | 'content' | 'padding' | 'end';

/** Says where a byte of a stream lies: undefined while that is not known yet. */
export interface Locator {
  locate(offset: number): Place | undefined;
  /** Nothing before `offset` will be asked for again. */
  forget(offset: number): void;
}

/** The spans of one tar stream that a match may still fall in, and what each region of them is called. */
export class SpanLog implements Locator {
  #spans: Span[] = [];
  #head = 0;
  #closed = false;

  constructor(private readonly name: (span: Span, region: Region, offset: number) => Place | undefined) {}

  add(span: Span): void {
    const last = this.#spans.at(-1);
    // Zero blocks in a row are one span.
    if (last && last.header === null && span.header === null && last.end === span.start) last.end = last.contentEnd = last.content = span.end;
    else this.#spans.push(span);
  }

  /** The stream has ended: an offset past the last span is its end. */
  close(): void {
    this.#closed = true;
  }

  locate(offset: number): Place | undefined {
    const spans = this.#spans;
    let lo = this.#head;
    let hi = spans.length - 1;
    if (hi < lo || offset >= spans[hi]!.end) return this.#closed ? this.name(spans[hi] ?? EMPTY, 'end', offset) : undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (spans[mid]!.start <= offset) lo = mid;
      else hi = mid - 1;
    }
    const s = spans[lo]!;
    const region: Region = s.header === null ? 'end' : offset < s.content ? 'header' : offset < s.contentEnd ? 'content' : 'padding';
    return this.name(s, region, offset - s.content);
  }

  forget(offset: number): void {
    const spans = this.#spans;
    while (this.#head < spans.length - 1 && spans[this.#head]!.end <= offset) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > spans.length) {
      spans.splice(0, this.#head);
      this.#head = 0;
    }
    // The span the offset lies in may hold a nested tar with a log of its own.
    const s = spans[this.#head];
    if (s?.header && offset > s.content) (s.sink as Partial<Locator> | undefined)?.forget?.(offset - s.content);
  }
}

const EMPTY: Span = { start: 0, content: 0, contentEnd: 0, end: 0, header: null, sink: undefined };

/**
 * One scanner over a whole byte stream; each match is recorded at the place
 * `where` gives for its first byte (`fallback` when the stream ended before
 * that was known). Overlapping matches of one secret at one place (the
 * forms of one occurrence) count once.
 */
export class ByteLane {
  readonly #scanner: WideScanner;
  readonly #pending: number[] = []; // pattern index, end offset: matches not yet placed
  readonly #lastEnd = new Map<string, number>(); // place and secret → end of the last occurrence counted
  readonly #longest: number;
  readonly #onMatch = (index: number, end: number): void => void this.#pending.push(index, end);

  constructor(
    private readonly search: Search,
    private readonly where: Locator,
    private readonly fallback: Place,
  ) {
    this.#scanner = new WideScanner(search.matcher);
    this.#longest = search.longest;
  }

  feed(chunk: Uint8Array): void {
    this.#scanner.feed(chunk, this.#onMatch);
    if (this.#pending.length > 0) this.#place(false);
    const before = this.#scanner.offset - this.#longest;
    this.where.forget(this.#pending.length > 0 ? Math.min(before, this.#startOf(0)) : before);
  }

  /** The stream has ended (and the walker with it): every match is placed. */
  end(): void {
    this.#place(true);
  }

  #startOf(k: number): number {
    return this.#pending[k + 1]! - this.search.lengthOf[this.#pending[k]!]!;
  }

  #place(final: boolean): void {
    const pending = this.#pending;
    const { search } = this;
    let k = 0;
    for (; k < pending.length; k += 2) {
      const place = this.where.locate(this.#startOf(k)) ?? (final ? this.fallback : undefined);
      if (!place) break;
      const index = pending[k]!;
      const end = pending[k + 1]!;
      const secret = search.secretOf[index]!;
      const key = `${JSON.stringify(place)}\0${secret}`;
      const last = this.#lastEnd.get(key) ?? -1;
      search.record(place, secret, [search.formOf[index]!], end - search.lengthOf[index]! >= last ? 1 : 0);
      this.#lastEnd.set(key, Math.max(last, end));
    }
    pending.splice(0, k);
  }
}
