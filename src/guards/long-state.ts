/**
 * One stream's live long patterns (src/guards/long.ts), and the one place
 * that reports matches in stream order, for both walks of the DFA — the
 * Scanner (src/guards/matcher.ts) and the 4-lane WideScanner
 * (src/verify/wide.ts).
 *
 * Each live pattern has one pending event: where it completes, where a byte
 * differs, or none before the chunk ends; `next` is the earliest, and the
 * Scanner's hot loop stops there, so `partial` is exact at every match.
 * Costs: nothing per byte; per event, a look at each live pattern (few:
 * those whose anchor ended lately).
 */
import { commonPrefix, type LongPatterns } from './long.js';
import type { Matcher, MatchHandler } from './matcher.js';

const EMPTY = Buffer.alloc(0);
const PENDING = 0; // compared up to the chunk's end
const MISMATCH = 1; // the byte before `next` differs
const COMPLETE = 2; // the pattern ends at `next`

interface Live {
  slot: number;
  /** Stream offset of the live prefix's first byte. */
  start: number;
  /** Stream offset of its next event (Infinity while pending). */
  next: number;
  kind: number;
}

/**
 * One stream's live long patterns, and the one place that reports matches
 * in order: `at(e, …)` handles everything at end offset e — long patterns'
 * events, a DFA state ending there — and calls the handler longest first.
 * Call `begin` before a chunk's events and `end` after them.
 */
export class LongState {
  /** Smallest stream offset at which a live pattern has an event (Infinity: none in this chunk). */
  next = Infinity;
  private readonly live: Live[] = [];
  private isLive: Uint8Array | undefined; // per slot, made at the first anchor
  private readonly done: number[] = [];
  private readonly long: LongPatterns;
  private raw: Uint8Array = EMPTY; // the chunk being scanned
  private view: Buffer | undefined; // the same as a Buffer, made when first compared with
  private chunkStart = 0;

  constructor(private readonly matcher: Matcher) {
    this.long = matcher.long;
  }

  begin(chunk: Uint8Array, start: number): void {
    this.raw = chunk;
    this.chunkStart = start;
    if (this.live.length === 0) return;
    for (const a of this.live) this.schedule(a, start);
    this.next = this.earliest();
  }

  /** Drops the chunk (its owner may reuse it); live patterns wait for the next one. */
  end(): void {
    this.raw = EMPTY;
    this.view = undefined;
  }

  /** Whether nothing is live: a chunk in which the DFA ended nothing needs no call to `at`. */
  get idle(): boolean {
    return this.live.length === 0;
  }

  /** Length of the longest live prefix at stream offset `pos` (0: none). */
  partial(pos: number): number {
    let start = pos;
    for (const a of this.live) start = Math.min(start, a.start);
    return pos - start;
  }

  /** Events of live patterns before `e` (with no DFA state to go with them). */
  until(e: number, onMatch: MatchHandler): void {
    while (this.next < e) this.at(this.next, -1, onMatch);
  }

  /** Everything at end offset `e`; `state`: a DFA state index that ends a pattern or an anchor there, or -1. */
  at(e: number, state: number, onMatch: MatchHandler): void {
    const { live, done, long } = this;
    if (done.length > 0) done.length = 0;
    if (this.next === e) {
      for (let j = 0; j < live.length; ) {
        if (live[j]!.next !== e || this.step(live[j]!, e)) j++;
        else this.isLive![live[j]!.slot] = 0, (live[j] = live[live.length - 1]!), live.pop();
      }
      this.next = this.earliest();
    }
    const { anchorOut, shorterAnchor } = this.matcher;
    for (let group = state >= 0 ? anchorOut[state]! : -1; group >= 0; group = shorterAnchor[group]!) {
      const isLive = (this.isLive ??= new Uint8Array(long.bytes.length));
      for (let slot = long.groupStart[group]!; slot < long.groupStart[group + 1]!; slot++) {
        if (isLive[slot]) continue; // its longest live prefix is longer
        const a: Live = { slot, start: e - long.anchorOf[slot]!, next: Infinity, kind: PENDING };
        this.schedule(a, e);
        live.push(a);
        isLive[slot] = 1;
        this.next = Math.min(this.next, a.next);
      }
    }
    // Report longest first: the long patterns done here, merged into the DFA's chain (longest first too).
    if (done.length > 1) done.sort((x, y) => long.bytes[y]!.length - long.bytes[x]!.length);
    const { outOf, shorterOut } = this.matcher;
    let p = state >= 0 ? outOf[state]! : -1;
    for (const slot of done) {
      for (; p >= 0 && this.matcher.lengthOf(p) > long.bytes[slot]!.length; p = shorterOut[p]!) onMatch(p, e);
      onMatch(long.patternOf[slot]!, e);
    }
    for (; p >= 0; p = shorterOut[p]!) onMatch(p, e);
  }

  /**
   * Called after `at(e, state)` with the chunk and the index in it of stream
   * offset e: skips the run of the byte before e that follows, when nothing
   * can happen in it, and returns its length (0: not skipped). That is when
   * the DFA stays in `state` on that byte y and ends no pattern there, and
   * every live pattern (`at` just woke all those its anchors start) sits at
   * the run it starts with, y^z followed by another byte: at each further y
   * it falls back to the same length. A stream of zeros against a secret that
   * starts with zero bytes would otherwise cost an event per byte.
   */
  skipRun(e: number, state: number, chunk: Uint8Array, at: number): number {
    const { live, long, matcher } = this;
    if (live.length === 0 || at === 0 || matcher.outOf[state]! >= 0) return 0;
    const y = chunk[at - 1]!;
    if (matcher.delta[state * matcher.stride + matcher.classOf[y]!] !== ~(state * matcher.stride)) return 0;
    for (const a of live) {
      const z = long.runOf(a.slot);
      if (long.bytes[a.slot]![0] !== y || e - a.start !== z || z === long.bytes[a.slot]!.length) return 0;
    }
    let r = 0;
    while (at + r < chunk.length && chunk[at + r] === y) r++;
    if (r === 0) return 0;
    for (const a of live) (a.start += r), this.schedule(a, e + r);
    this.next = this.earliest();
    return r;
  }

  /** Handles a's event at e; false when no prefix of it as long as its anchor is live any more. */
  private step(a: Live, e: number): boolean {
    const long = this.long;
    const p = long.bytes[a.slot]!;
    let l: number;
    if (a.kind === COMPLETE) {
      l = p.length;
    } else {
      const y = this.raw[e - 1 - this.chunkStart]!;
      l = e - 1 - a.start;
      do l = long.fail(a.slot, l);
      while (l >= 0 && p[l] !== y);
      if (l < 0) return false;
      l++;
    }
    if (l === p.length) {
      this.done.push(a.slot);
      l = long.fail(a.slot, l);
      if (l < 0) return false;
    }
    a.start = e - l;
    this.schedule(a, e);
    return true;
  }

  /** Compares a's pattern with the chunk from stream offset x (all before it matched) to find its next event. */
  private schedule(a: Live, x: number): void {
    const p = this.long.bytes[a.slot]!;
    const l = x - a.start;
    const need = p.length - l;
    const avail = this.chunkStart + this.raw.length - x;
    const chunk = (this.view ??= Buffer.from(this.raw.buffer, this.raw.byteOffset, this.raw.length));
    const k = commonPrefix(p, l, chunk, x - this.chunkStart, Math.min(need, avail));
    if (k === need) (a.kind = COMPLETE), (a.next = x + k);
    else if (k < avail) (a.kind = MISMATCH), (a.next = x + k + 1);
    else (a.kind = PENDING), (a.next = Infinity);
  }

  private earliest(): number {
    let next = Infinity;
    for (const a of this.live) next = Math.min(next, a.next);
    return next;
  }
}

