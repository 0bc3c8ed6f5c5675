/**
 * A skip filter in front of the image scan's DFA (Wu-Manber over two-byte
 * blocks): it finds, with a few table lookups per 10–30 bytes, every place
 * where one of the Matcher's anchors could start, so the DFA
 * (src/verify/wide.ts) walks only short windows around those places instead
 * of every byte. Layers are mostly bytes no secret form contains; the DFA's
 * one dependent load per byte was the scan's cost.
 *
 * Let m be the shortest anchor (src/guards/matcher.ts `heads()`). `shift[b]`
 * for the two bytes b ending a window of m bytes is how far the window may
 * move without passing a window that starts with some anchor's first m bytes
 * (0: it may be one; a candidate). Every DFA report ends an anchor or a short
 * pattern, all at least m long, so it lies within `depth` bytes (the longest
 * anchor) after a candidate: walking [x, x + depth) from the root for every
 * candidate x (merged where they overlap) reports what a walk of the whole
 * chunk reports. The chunk's first `depth` bytes are walked on from the
 * stream's state (matches begun in the chunk before), and its last `depth`
 * bytes always, which leaves the exact stream state for the next chunk.
 */
import type { Matcher } from '../guards/matcher.js';

export interface SkipFilter {
  /** Window length: the shortest anchor. */
  readonly m: number;
  /** Block (two bytes, big-endian) → shift. */
  readonly shift: Uint8Array;
}

/** Below this window length the shifts are too short to beat the DFA. */
const MIN_WINDOW = 6;
/** A chunk whose windows would cover more than this share of it is walked whole. */
const MAX_COVER = 0.25;

/** The filter for `matcher`'s anchors, or undefined when shifts would be too short to pay. */
export function skipFilter(matcher: Matcher): SkipFilter | undefined {
  const heads = matcher.heads();
  if (heads.length === 0) return undefined;
  const m = Math.min(255, ...heads.map((h) => h.length));
  if (m < MIN_WINDOW) return undefined;
  const shift = new Uint8Array(65536).fill(m - 1);
  for (const h of heads) {
    for (let q = 1; q < m; q++) {
      const block = (h[q - 1]! << 8) | h[q]!;
      if (shift[block]! > m - 1 - q) shift[block] = m - 1 - q;
    }
  }
  return { m, shift };
}

/**
 * The windows of chunk `c` the DFA must walk, merged, as flat [start, end)
 * pairs in `out`; `fromStart` adds the chunk's first `depth` bytes (the
 * stream is inside a partial match). Returns false, with `out` unspecified,
 * when they would cover so much of the chunk that a whole walk is cheaper.
 */
export function windows(c: Uint8Array, f: SkipFilter, depth: number, fromStart: boolean, out: number[]): boolean {
  const n = c.length;
  const { m, shift } = f;
  const budget = n * MAX_COVER;
  out.length = 0;
  let a = 0;
  let b = fromStart ? Math.min(n, depth) : 0; // the open window [a, b); empty while b === 0
  let covered = 0;
  for (let pos = m - 1; pos < n; ) {
    const s = shift[(c[pos - 1]! << 8) | c[pos]!]!;
    if (s !== 0) {
      pos += s;
      continue;
    }
    const x = pos - m + 1;
    if (b === 0 || x > b) {
      if (b !== 0) {
        out.push(a, b);
        covered += b - a;
        if (covered > budget) return false;
      }
      a = x;
    }
    b = Math.max(b, Math.min(n, x + depth));
    pos++;
  }
  // The last `depth` bytes: the exact state at the chunk's end, and windows that run past it.
  const tail = Math.max(0, n - depth);
  if (b !== 0 && tail <= b) b = n;
  else {
    if (b !== 0) out.push(a, b);
    covered += b - a;
    a = tail;
    b = n;
  }
  out.push(a, b);
  return covered + b - a <= budget;
}
