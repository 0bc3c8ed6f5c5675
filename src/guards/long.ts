/**
 * Patterns longer than their anchor (src/guards/anchors.ts). The Matcher's
 * DFA (src/guards/matcher.ts) walks only a pattern's anchor; when it ends
 * one, each pattern that starts with it goes live, and the rest of the
 * pattern is compared with the stream as chunks arrive — a memcmp over the
 * chunk, no table per byte — until it completes (a match) or a byte differs.
 *
 * Overlaps. When a live pattern meets a differing byte, a shorter prefix of
 * it may still end there (a border: the pattern overlaps itself). As in
 * Knuth–Morris–Pratt, each pattern keeps only its longest live prefix and on
 * a mismatch, or after a match, falls back along its borders — but only
 * borders at least as long as its anchor: shorter prefixes are the DFA's job,
 * and it reports the anchor again when one of them grows into it. Such a
 * border starts with the anchor, so a pattern in which its anchor does not
 * recur (any random secret) has none and stores nothing. For the others the
 * failure function is kept as segments of constant shift: the shift is the
 * smallest period of the prefix, which never decreases along the pattern, so
 * a run of zeros, however long, is one segment.
 *
 * Memory: the pattern bytes are referenced, not copied; a few numbers per
 * pattern, and 12 bytes per segment, made the first time the pattern falls
 * back (so compiling never scans a pattern's bytes). Time: each stream byte
 * is compared once per live pattern, plus at most as many fallbacks as bytes
 * compared. The per-stream side, which does this: src/guards/long-state.ts.
 */

export class LongPatterns {
  /** Per slot (one per distinct long pattern): its bytes, its pattern index, its anchor's length. */
  readonly bytes: Buffer[] = [];
  readonly patternOf: Int32Array;
  readonly anchorOf: Int32Array;
  /** Group g (one per anchor) is slots [groupStart[g], groupStart[g + 1]). */
  readonly groupStart: Int32Array;
  /**
   * Per slot, made the first time it is asked for (the first mismatch after
   * its anchor): its failure segments, (from, to, shift) triples — for ℓ in
   * [from, to] the longest border is ℓ - shift — or null when it has none.
   */
  readonly #segments: (Int32Array | null | undefined)[];
  #segmentBytes = 0;
  #pi = new Int32Array(0);
  readonly #runs: Int32Array; // per slot: how many times its first byte repeats at its start, -1: not counted yet

  /** `groups`: pattern indices per anchor, in the DFA's group order; `depth`: each anchor's length (shorter than its patterns). */
  constructor(groups: readonly number[][], depth: readonly number[], patterns: readonly Uint8Array[]) {
    const index: number[] = [];
    const starts = [0];
    for (const group of groups) {
      for (const i of group) {
        const p = Buffer.from(patterns[i]!.buffer, patterns[i]!.byteOffset, patterns[i]!.length);
        // Equal bytes share an anchor: only the first index is reported.
        if (this.bytes.slice(starts.at(-1)).some((q) => q.equals(p))) continue;
        this.bytes.push(p);
        index.push(i);
      }
      starts.push(index.length);
    }
    this.patternOf = Int32Array.from(index);
    this.groupStart = Int32Array.from(starts);
    this.anchorOf = new Int32Array(index.length);
    groups.forEach((_, g) => this.anchorOf.fill(depth[g]!, starts[g], starts[g + 1]));
    this.#segments = this.bytes.map(() => undefined);
    this.#runs = new Int32Array(index.length).fill(-1);
  }

  /** How many bytes slot's pattern starts with that equal its first (the whole length for a run like 0^n). */
  runOf(slot: number): number {
    let r = this.#runs[slot]!;
    if (r < 0) {
      const p = this.bytes[slot]!;
      for (r = 1; r < p.length && p[r] === p[0]; r++);
      this.#runs[slot] = r;
    }
    return r;
  }

  get tableBytes(): number {
    return 4 * (3 * this.patternOf.length + this.groupStart.length) + 16 * this.bytes.length + this.#segmentBytes;
  }

  /** The longest proper border of slot's first ℓ bytes that is at least its anchor long, or -1. */
  fail(slot: number, l: number): number {
    let seg = this.#segments[slot];
    if (seg === undefined) seg = this.#segmentsOf(slot);
    if (seg === null) return -1;
    let lo = 0;
    let hi = seg.length / 3;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seg[3 * mid]! <= l) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && l <= seg[3 * lo - 2]! ? l - seg[3 * lo - 1]! : -1;
  }

  #segmentsOf(slot: number): Int32Array | null {
    const scratch = (n: number): Int32Array => (this.#pi.length >= n ? this.#pi : (this.#pi = new Int32Array(n)));
    const found = segments(this.bytes[slot]!, this.anchorOf[slot]!, scratch);
    const seg = found.length === 0 ? null : Int32Array.from(found);
    this.#segments[slot] = seg;
    this.#segmentBytes += seg?.byteLength ?? 0;
    return seg;
  }
}

/**
 * Appends p's failure segments: KMP's prefix function, truncated to borders of
 * at least k bytes (its anchor's length). Such a border starts with the
 * anchor, so the stretches where none is live are skipped with `indexOf` to
 * the next place the anchor recurs (for a random pattern: at once to the end).
 */
function segments(p: Buffer, k: number, scratch: (n: number) => Int32Array): number[] {
  const out: number[] = []; // (from, to, shift) triples
  const anchor = p.subarray(0, k);
  let at = p.indexOf(anchor, 1);
  if (at < 0) return out;
  const pi = scratch(p.length).fill(0, 0, p.length); // pi[i]: longest proper border ≥ k of p[0..i], else 0
  let b = 0;
  for (let i = at + k - 1; i < p.length; i++) {
    if (b === 0) b = k; // at an anchor found by indexOf: its border is exactly k bytes long
    else {
      while (b > 0 && p[i] !== p[b]) b = pi[b - 1]!;
      if (b === 0) {
        // No longer border ends at i: the next one is the anchor's next occurrence (ending at i or later).
        at = p.indexOf(anchor, i - k + 1);
        if (at < 0) break;
        i = at + k - 2;
        continue;
      }
      b++;
    }
    pi[i] = b;
    const l = i + 1;
    const last = out.length - 3;
    if (last >= 0 && out[last + 2] === l - b && out[last + 1] === l - 1) out[last + 1] = l;
    else out.push(l, l, l - b);
  }
  return out;
}

/** How many bytes a[ai..] and b[bi..] have in common, up to n: a few by hand, then memcmp, halving on a difference. */
export function commonPrefix(a: Buffer, ai: number, b: Buffer, bi: number, n: number): number {
  let lo = 0;
  for (const quick = Math.min(n, 8); lo < quick; lo++) if (a[ai + lo] !== b[bi + lo]) return lo;
  let hi = n;
  if (lo === hi || a.compare(b, bi + lo, bi + hi, ai + lo, ai + hi) === 0) return n;
  while (hi - lo > 32) {
    const mid = (lo + hi) >>> 1;
    if (a.compare(b, bi + lo, bi + mid, ai + lo, ai + mid) === 0) lo = mid;
    else hi = mid;
  }
  while (a[ai + lo] === b[bi + lo]) lo++;
  return lo;
}
