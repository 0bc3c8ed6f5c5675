/**
 * How many leading bytes of each pattern the Matcher's DFA walks (its
 * anchor; src/guards/matcher.ts), so that the DFA — trie nodes x byte
 * classes x 4 bytes — fits a fixed budget however long the patterns are.
 *
 * Each pattern gets k bytes, or more where it shares its first k bytes with
 * another pattern: one byte past the longest prefix it shares with any other
 * (up to `max`). Patterns then rarely share an anchor, so an anchor that
 * ends in the stream wakes one pattern, not hundreds (a YAML secret's lines
 * all start with the same indentation). The largest k whose trie fits wins;
 * if even k = 1 does not, the extension is dropped (k = 1 for every pattern:
 * at most 257 nodes).
 *
 * Counting without building: in sorted order, a pattern's anchor adds its
 * length minus what it shares with the one before (its common prefix with
 * earlier patterns is never longer, and the one before's anchor covers it).
 */

export interface Anchors {
  /** The anchor length every pattern gets at least (or its whole length, if shorter). */
  k: number;
  /** Per pattern: its anchor length, at most its own length. */
  lengths: Int32Array;
  /** Trie nodes of all anchors, the root included. */
  nodes: number;
}

export function chooseAnchors(patterns: readonly Uint8Array[], max: number, budget: number): Anchors {
  const n = patterns.length;
  const head = Int32Array.from(patterns, (p) => Math.min(p.length, max));
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => {
    const a = patterns[x]!;
    const b = patterns[y]!;
    const m = Math.min(head[x]!, head[y]!);
    for (let j = 0; j < m; j++) if (a[j] !== b[j]) return a[j]! - b[j]!;
    return head[x]! - head[y]!;
  });
  // lcp[r]: common prefix of the heads at ranks r - 1 and r; near[i]: pattern i's longest with a neighbour.
  const lcp = new Int32Array(n + 1);
  const near = new Int32Array(n);
  for (let r = 1; r < n; r++) {
    const a = patterns[order[r - 1]!]!;
    const b = patterns[order[r]!]!;
    const m = Math.min(head[order[r - 1]!]!, head[order[r]!]!);
    let l = 0;
    while (l < m && a[l] === b[l]) l++;
    lcp[r] = l;
  }
  for (let r = 0; r < n; r++) near[order[r]!] = Math.max(lcp[r]!, lcp[r + 1]!);

  const seen = new Uint8Array(256);
  let classes = 1;
  patterns.forEach((p, i) => {
    for (let j = 0; j < head[i]!; j++) if (!seen[p[j]!]) (seen[p[j]!] = 1), classes++;
  });

  const lengths = new Int32Array(n);
  const nodesFor = (k: number, extend: boolean): number => {
    for (let i = 0; i < n; i++) lengths[i] = Math.min(head[i]!, extend ? Math.max(k, near[i]! + 1) : k);
    let nodes = 1;
    for (let r = 0; r < n; r++) {
      const a = lengths[order[r]!]!;
      nodes += a - (r === 0 ? 0 : Math.min(lcp[r]!, a, lengths[order[r - 1]!]!));
    }
    return nodes;
  };
  const fits = (k: number, extend: boolean): boolean => nodesFor(k, extend) * classes * 4 <= budget;
  for (const extend of [true, false]) {
    if (extend && !fits(1, true)) continue;
    // The trie only grows with k: the largest k that fits, by bisection.
    let lo = 1;
    let hi = max;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (fits(mid, extend)) lo = mid;
      else hi = mid - 1;
    }
    return { k: lo, nodes: nodesFor(lo, extend), lengths };
  }
  throw new Error('chooseAnchors: unreachable');
}
