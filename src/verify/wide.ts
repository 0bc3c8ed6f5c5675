/**
 * A Scanner for bulk data: the same compiled automaton as
 * src/guards/matcher.ts (its `delta`/`classOf` tables, in the layout its
 * header describes), walked in four independent lanes.
 *
 * A DFA scan is one dependent table load per byte, so a single walk is bound
 * by load latency (~570 MB/s here), not by bandwidth. A large chunk is
 * therefore cut into four segments walked side by side in one loop — four
 * independent chains the CPU overlaps (~1.7x). Lane 0 continues the stream's
 * state; lanes 1–3 start from the root `depth - 1` bytes before their
 * segment (the DFA's deepest state is `depth` bytes, so any pattern or
 * anchor ending in a segment starts at most that far back, and a root-started
 * walk finds every one that starts inside its window), and ends before their
 * segment are left to the lane before. The state carried to the next chunk is
 * lane 3's: its window is at least `depth` bytes long, so it equals the state
 * of a walk from the stream's start.
 *
 * Same contract as `Scanner.feed` — every occurrence reported once, in stream
 * order, longest first for one end offset — because the DFA's ends are
 * collected per lane (ends in one state at consecutive offsets, a run of one
 * byte, as one entry) and handed, after the chunk and lane by lane, to the
 * stream's LongState (src/guards/long-state.ts), which interleaves the long
 * patterns' matches and skips runs in which nothing can happen. Small chunks
 * take the plain loop.
 */
import type { Matcher, MatchHandler } from '../guards/matcher.js';
import { LongState } from '../guards/long-state.js';
import { skipFilter, windows, type SkipFilter } from './skip.js';

/** Below this many bytes per lane a chunk is scanned in one walk. */
const MIN_LANE = 1024;

/** One skip filter per compiled Matcher (a scanner is made per stream, the filter's table is 64 KiB). */
const filters = new WeakMap<Matcher, SkipFilter | undefined>();

export class WideScanner {
  private state = 0; // pre-multiplied by the stride, as in Scanner
  private pos = 0;
  // Per lane, flattened: (state, already un-negated; chunk offset just past the end; count) —
  // ends in one state at consecutive offsets (a run of one byte) are one entry.
  private readonly found: number[][] = [[], [], [], []];
  private readonly long: LongState;
  private readonly skip: SkipFilter | undefined;
  private readonly spans: number[] = [];
  /** @internal chunks walked through the skip filter's windows only (the tests check it is used). */
  filtered = 0;

  constructor(private readonly matcher: Matcher) {
    this.long = new LongState(matcher);
    if (!filters.has(matcher)) filters.set(matcher, skipFilter(matcher));
    this.skip = filters.get(matcher);
  }

  /** Bytes fed so far. */
  get offset(): number {
    return this.pos;
  }

  feed(chunk: Uint8Array, onMatch: MatchHandler): void {
    const n = chunk.length;
    const warm = this.matcher.depth - 1;
    const q = Math.floor(n / 4);
    if (q < MIN_LANE || q <= warm) this.state = this.walk(chunk, 0, n, this.state, this.found[0]!, true);
    else if (this.skip && windows(chunk, this.skip, this.matcher.depth, this.state !== 0, this.spans)) this.windows(chunk);
    else this.lanes(chunk, q, warm);
    this.report(chunk, onMatch);
    this.pos += n;
  }

  private lanes(c: Uint8Array, q: number, warm: number): void {
    const { delta, classOf } = this.matcher;
    const [f0, f1, f2, f3] = this.found as [number[], number[], number[], number[]];
    const b1 = q;
    const b2 = 2 * q;
    const b3 = 3 * q;
    let s0 = this.state;
    let s1 = this.walk(c, b1 - warm, b1, 0, f1, false);
    let s2 = this.walk(c, b2 - warm, b2, 0, f2, false);
    let s3 = this.walk(c, b3 - warm, b3, 0, f3, false);
    for (let i = 0; i < q; i++) {
      s0 = delta[s0 + classOf[c[i]!]!]!;
      s1 = delta[s1 + classOf[c[b1 + i]!]!]!;
      s2 = delta[s2 + classOf[c[b2 + i]!]!]!;
      s3 = delta[s3 + classOf[c[b3 + i]!]!]!;
      if ((s0 | s1 | s2 | s3) < 0) {
        // Rare (an end of some form): the calls stay out of the loop's common path.
        if (s0 < 0) record(f0, (s0 = ~s0), i + 1);
        if (s1 < 0) record(f1, (s1 = ~s1), b1 + i + 1);
        if (s2 < 0) record(f2, (s2 = ~s2), b2 + i + 1);
        if (s3 < 0) record(f3, (s3 = ~s3), b3 + i + 1);
      }
    }
    this.state = this.walk(c, 4 * q, c.length, s3, f3, true);
  }

  /** Walks only the skip filter's windows (src/verify/skip.ts): the first on from the stream's state, the others from the root. */
  private windows(c: Uint8Array): void {
    const spans = this.spans;
    const out = this.found[0]!;
    this.filtered++;
    let s = this.state;
    for (let k = 0; k < spans.length; k += 2) s = this.walk(c, spans[k]!, spans[k + 1]!, spans[k] === 0 ? this.state : 0, out, true);
    this.state = s;
  }

  /** One walk over c[from, to) from state `s`; records ends into `out` when `keep`. Returns the state. */
  private walk(c: Uint8Array, from: number, to: number, s: number, out: number[], keep: boolean): number {
    const { delta, classOf } = this.matcher;
    for (let i = from; i < to; i++) {
      s = delta[s + classOf[c[i]!]!]!;
      if (s < 0) {
        s = ~s;
        if (keep) record(out, s, i + 1);
      }
    }
    return s;
  }

  private report(chunk: Uint8Array, onMatch: MatchHandler): void {
    const { stride } = this.matcher;
    const long = this.long;
    if (long.idle && this.found.every((f) => f.length === 0)) return;
    long.begin(chunk, this.pos);
    let skipped = this.pos; // ends up to here lie in a run LongState skipped
    for (const f of this.found) {
      for (let k = 0; k < f.length; k += 3) {
        const state = f[k]! / stride;
        for (let end = this.pos + f[k + 1]!, last = end + f[k + 2]! - 1; end <= last; end++) {
          if (end <= skipped) {
            end = skipped;
            continue;
          }
          long.until(end, onMatch);
          long.at(end, state, onMatch);
          skipped = end + long.skipRun(end, state, chunk, end - this.pos);
        }
      }
      f.length = 0;
    }
    long.until(this.pos + chunk.length + 1, onMatch);
    long.end();
  }
}

/** Records an end at chunk offset `end` in state `s`, into the run before it if it continues one. */
function record(out: number[], s: number, end: number): void {
  const n = out.length;
  if (n > 0 && out[n - 3] === s && out[n - 2]! + out[n - 1]! === end) out[n - 1] = out[n - 1]! + 1;
  else out.push(s, end, 1);
}
