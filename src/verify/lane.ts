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
import type { PatternForm } from '../secrets/forms.js';
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

/**
 * The spans of one tar stream that a match may still fall in, and what each
 * region of them is called. `name` is asked once per span and region (the
 * answer is kept for the matches after it), except for content when
 * `nested` says its place depends on the offset (a blob holding a tar).
 */
export class SpanLog implements Locator {
  #spans: Span[] = [];
  #head = 0;
  #closed = false;
  #named: { span: Span; region: Region; place: Place } | undefined;

  constructor(
    private readonly name: (span: Span, region: Region, offset: number) => Place | undefined,
    private readonly nested = false,
  ) {}

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
    const named = this.#named;
    if (named && named.span === s && named.region === region) return named.place;
    const place = this.name(s, region, offset - s.content);
    if (place && !(this.nested && region === 'content')) this.#named = { span: s, region, place };
    return place;
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
 * that was known). Matches in a row at one place are counted together and
 * recorded once (a file holding a value a million times costs a lookup per
 * match, not a record); overlapping matches of one secret there (the forms
 * of one occurrence) count once.
 */
export class ByteLane {
  readonly #scanner: WideScanner;
  readonly #pending: number[] = []; // pattern index, end offset: matches not yet placed
  readonly #longest: number;
  readonly #onMatch = (index: number, end: number): void => void this.#pending.push(index, end);
  #place: Place | undefined; // where the matches counted in #found are
  readonly #found = new Map<number, { forms: Set<PatternForm>; count: number; lastEnd: number }>();

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
    if (this.#pending.length > 0) this.#placeAll(false);
    const before = this.#scanner.offset - this.#longest;
    this.where.forget(this.#pending.length > 0 ? Math.min(before, this.#startOf(0)) : before);
  }

  /** The stream has ended (and the walker with it): every match is placed and recorded. */
  end(): void {
    this.#placeAll(true);
    this.#flush();
  }

  #startOf(k: number): number {
    return this.#pending[k + 1]! - this.search.lengthOf[this.#pending[k]!]!;
  }

  #placeAll(final: boolean): void {
    const pending = this.#pending;
    const { search } = this;
    let k = 0;
    for (; k < pending.length; k += 2) {
      const place = this.where.locate(this.#startOf(k)) ?? (final ? this.fallback : undefined);
      if (!place) break;
      if (!this.#place || !samePlace(place, this.#place)) {
        this.#flush();
        this.#place = place;
      }
      const index = pending[k]!;
      const end = pending[k + 1]!;
      const secret = search.secretOf[index]!;
      let f = this.#found.get(secret);
      if (!f) this.#found.set(secret, (f = { forms: new Set(), count: 0, lastEnd: -1 }));
      f.forms.add(search.formOf[index]!);
      if (end - search.lengthOf[index]! >= f.lastEnd) f.count++;
      f.lastEnd = Math.max(f.lastEnd, end);
    }
    pending.splice(0, k);
  }

  #flush(): void {
    if (this.#place) for (const [secret, f] of this.#found) this.search.record(this.#place, secret, f.forms, f.count);
    this.#found.clear();
    this.#place = undefined;
  }
}

/** Whether two places name the same thing (a place is a small record of strings and numbers). */
function samePlace(a: Place, b: Place): boolean {
  if (a === b) return true;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  return x.kind === y.kind && x.blob === y.blob && x.path === y.path && x.part === y.part && x.field === y.field && x.entry === y.entry;
}
