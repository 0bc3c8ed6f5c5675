/**
 * Multi-pattern byte matcher whose memory does not grow with the patterns'
 * length: Aho-Corasick compiled to a DFA over each pattern's first bytes (its
 * anchor: 32 bytes, fewer when the DFA would not fit its 8 MiB budget; see
 * src/guards/anchors.ts), and the rest of each longer pattern compared with
 * the stream once its anchor has ended (src/guards/long.ts). Used by the log
 * redactor (`redact.ts`) and by the image scan (src/verify/search.ts, wide.ts).
 *
 *   const m = new Matcher([Buffer.from('hunter22'), Buffer.from('aHVudGVyMjI')]);
 *   const sc = m.createScanner();
 *   sc.feed(chunk1, (i, end) => ...);   // state carries over between chunks
 *   sc.feed(chunk2, (i, end) => ...);   // `end` is an offset in the whole stream
 *
 * Size. The DFA is (trie nodes of the anchors) x (byte classes) x 4 bytes: it
 * depends on the number of patterns and their alphabet, never on their
 * length. A 500 KiB random binary secret (~2,000 patterns, most of them its
 * "lines"; 256 classes) gets 4-byte anchors and a 7 MiB table; 100 tokens
 * keep 32. Scanning is one table lookup per byte whatever the anchors are; a
 * short anchor only ends more often by chance, each time costing a compare of
 * a few bytes.
 *
 * Layout. Bytes are first mapped to classes (`classOf`: class 0 = every byte
 * in no anchor), which shrinks the table from states x 256 to states x
 * classes (base64/token alphabets: ~70 classes). `delta` holds, for state s
 * and class c at `s * stride + c`, the next state already multiplied by the
 * stride — so the hot loop is `s = delta[s + classOf[byte]]` — and stored
 * bitwise-negated (`~x`, < 0) when the next state ends a pattern or an
 * anchor, so the common no-match step costs one sign test.
 *
 * Outputs. For every occurrence of every pattern the handler is called once,
 * in stream order, longest first for occurrences ending at the same offset
 * (per DFA state the longest pattern it ends, then a chain of shorter suffix
 * patterns, merged with the long patterns that complete there). Patterns with
 * equal bytes are reported under the first index. `Scanner.partial` is the
 * length of the longest input suffix that is a proper prefix of some pattern
 * (the DFA's, or a long pattern's live prefix): no later match starts before
 * `offset - partial`, and it is below `maxLength`.
 */
import { chooseAnchors } from './anchors.js';
import { LongPatterns } from './long.js';
import { LongState } from './long-state.js';

/** Called for each occurrence: pattern index, stream offset just past its last byte. */
export type MatchHandler = (patternIndex: number, end: number) => void;

export interface MatcherOptions {
  /** Longest anchor (default 32); lowered further when the DFA would not fit its budget. */
  anchor?: number;
  /** Bytes the DFA may take (default 8 MiB); see src/guards/anchors.ts. */
  budget?: number;
}

const ANCHOR = 32;
const DFA_BUDGET = 8 * 2 ** 20;

export class Matcher {
  /** Length of the longest pattern (0 when there are none). */
  readonly maxLength: number;
  /** Number of DFA states (trie nodes of the anchors, root included). */
  readonly stateCount: number;
  /** The anchor length every pattern gets at least (or all of it, if shorter); see src/guards/anchors.ts. */
  readonly anchor: number;
  /** @internal deepest DFA state: the longest anchor. */
  readonly depth: number;
  /** @internal byte → class. */
  readonly classOf: Uint16Array;
  /** @internal transitions, see the header comment. */
  readonly delta: Int32Array;
  /** @internal classes per state. */
  readonly stride: number;
  /** @internal per state: longest suffix of it that is a proper prefix of a pattern. */
  readonly partialOf: Int32Array;
  /** @internal per state: longest pattern that the DFA holds whole (no longer than its anchor) ending in it, or -1. */
  readonly outOf: Int32Array;
  /** @internal per short pattern: next shorter pattern that is a suffix of it, or -1. */
  readonly shorterOut: Int32Array;
  /** @internal per state: the longest anchor ending in it (a group of long patterns), or -1. */
  readonly anchorOut: Int32Array;
  /** @internal per group: the next shorter anchor that is a suffix of its anchor, or -1. */
  readonly shorterAnchor: Int32Array;
  /** @internal the patterns longer than their anchor. */
  readonly long: LongPatterns;
  readonly #lengths: Int32Array;
  readonly #bytes: number;
  readonly #heads: () => Uint8Array[];

  constructor(patterns: readonly Uint8Array[], options: MatcherOptions = {}) {
    this.#lengths = Int32Array.from(patterns, (p, i) => {
      if (p.length === 0) throw new RangeError(`Matcher: pattern ${i} is empty`);
      return p.length;
    });
    this.maxLength = this.#lengths.reduce((a, b) => Math.max(a, b), 0);
    const { k, lengths, nodes } = chooseAnchors(patterns, Math.max(1, options.anchor ?? ANCHOR), options.budget ?? DFA_BUDGET);
    this.anchor = k;
    // Views, not copies: what the DFA holds of each pattern (src/verify/skip.ts builds a filter from them).
    this.#heads = () => patterns.map((p, i) => p.subarray(0, lengths[i]!));
    this.depth = lengths.reduce((a, b) => Math.max(a, b), 0);

    // Byte classes of the anchors, in order of first appearance (class 0: bytes in none).
    const classOf = new Uint16Array(256);
    let stride = 1;
    patterns.forEach((p, i) => {
      for (let j = 0; j < lengths[i]!; j++) if (classOf[p[j]!] === 0) classOf[p[j]!] = stride++;
    });
    this.classOf = classOf;
    this.stride = stride;

    // 1. The trie of the anchors: child links (0: none; the root is no one's child) in
    // `delta`, and each node's children as a list (first child, next sibling, its class).
    const delta = new Int32Array(nodes * stride);
    const firstChild = new Int32Array(nodes);
    const sibling = new Int32Array(nodes);
    const edge = new Int32Array(nodes);
    const depth = new Int32Array(nodes);
    const terminal = new Int32Array(nodes).fill(-1);
    const anchorOf = new Int32Array(nodes).fill(-1);
    const prefix = new Uint8Array(nodes); // 1: a proper prefix of some pattern
    const groups: number[][] = [];
    const groupDepth: number[] = [];
    let n = 1;
    patterns.forEach((p, index) => {
      let s = 0;
      for (let j = 0; j < lengths[index]!; j++) {
        const c = classOf[p[j]!]!;
        const at = s * stride + c;
        if (delta[at] === 0) {
          if (n === nodes) throw new Error('Matcher: internal error, trie larger than counted');
          depth[n] = depth[s]! + 1;
          edge[n] = c;
          sibling[n] = firstChild[s]!;
          firstChild[s] = n;
          delta[at] = n++;
        }
        prefix[s] = 1;
        s = delta[at]!;
      }
      if (p.length === lengths[index]) {
        if (terminal[s] === -1) terminal[s] = index;
      } else {
        prefix[s] = 1;
        if (anchorOf[s] === -1) anchorOf[s] = groups.push([]) - 1;
        groups[anchorOf[s]!]!.push(index);
        groupDepth[anchorOf[s]!] = depth[s]!;
      }
    });

    // 2. Breadth-first, rewriting each row in place into final transitions:
    // pre-multiplied by the stride, negated when the target ends a pattern or
    // an anchor. A state's failure link, outputs and `partialOf` are set when
    // it is found: its failure target is shallower, so already complete. A
    // row starts as a copy of its failure state's row; its children go over it.
    const fail = new Int32Array(nodes);
    const outOf = new Int32Array(nodes).fill(-1);
    const partialOf = new Int32Array(nodes);
    const shorterOut = new Int32Array(patterns.length).fill(-1);
    const anchorOut = new Int32Array(nodes).fill(-1);
    const shorterAnchor = new Int32Array(groups.length).fill(-1);
    const queue = new Int32Array(nodes);
    let tail = 0;
    const found = (t: number, f: number): number => {
      const own = terminal[t]!;
      fail[t] = f;
      outOf[t] = own >= 0 ? own : outOf[f]!;
      partialOf[t] = prefix[t] ? depth[t]! : partialOf[f]!;
      if (own >= 0) shorterOut[own] = outOf[f]!;
      const group = anchorOf[t]!;
      anchorOut[t] = group >= 0 ? group : anchorOut[f]!;
      if (group >= 0) shorterAnchor[group] = anchorOut[f]!;
      queue[tail++] = t;
      return outOf[t]! >= 0 || anchorOut[t]! >= 0 ? ~(t * stride) : t * stride;
    };
    for (let t = firstChild[0]!; t > 0; t = sibling[t]!) delta[edge[t]!] = found(t, 0);
    for (let head = 0; head < tail; head++) {
      const s = queue[head]!;
      const row = s * stride;
      const frow = fail[s]! * stride;
      delta.copyWithin(row, frow, frow + stride);
      for (let t = firstChild[s]!; t > 0; t = sibling[t]!) {
        const viaFail = delta[row + edge[t]!]!;
        delta[row + edge[t]!] = found(t, (viaFail < 0 ? ~viaFail : viaFail) / stride);
      }
    }
    this.delta = delta;
    this.partialOf = partialOf;
    this.outOf = outOf;
    this.shorterOut = shorterOut;
    this.anchorOut = anchorOut;
    this.shorterAnchor = shorterAnchor;
    this.stateCount = n;
    this.long = new LongPatterns(groups, groupDepth, patterns);
    this.#bytes = delta.byteLength + 3 * 4 * n + 4 * (patterns.length + groups.length) + 512;
  }

  /** Bytes of tables the matcher allocated (the patterns themselves are referenced, not copied). */
  get tableBytes(): number {
    return this.#bytes + this.long.tableBytes;
  }

  get patternCount(): number {
    return this.#lengths.length;
  }

  lengthOf(patternIndex: number): number {
    return this.#lengths[patternIndex]!;
  }

  /** Each pattern's anchor: the bytes the DFA holds of it (the whole pattern when short). */
  heads(): Uint8Array[] {
    return this.#heads();
  }

  createScanner(): Scanner {
    return new Scanner(this);
  }
}

/** One stream's position in a Matcher's DFA. Cheap to create, one per stream. */
export class Scanner {
  private state = 0; // pre-multiplied by the stride
  private pos = 0;
  private readonly delta: Int32Array;
  private readonly classOf: Uint16Array;
  private readonly long: LongState;

  constructor(private readonly matcher: Matcher) {
    this.delta = matcher.delta;
    this.classOf = matcher.classOf;
    this.long = new LongState(matcher);
  }

  /** Bytes fed so far. */
  get offset(): number {
    return this.pos;
  }

  /** Length of the partial match in progress: no future match starts before `offset - partial`. */
  get partial(): number {
    return Math.max(this.matcher.partialOf[this.state / this.matcher.stride]!, this.long.partial(this.pos));
  }

  /**
   * Scans `chunk`, calling `onMatch` for every occurrence ending in it. During
   * the call `offset` and `partial` describe the position just after the match.
   */
  feed(chunk: Uint8Array, onMatch: MatchHandler): void {
    const delta = this.delta;
    const classOf = this.classOf;
    const long = this.long;
    const n = chunk.length;
    const base = this.pos;
    let s = this.state;
    let i = 0;
    long.begin(chunk, base);
    while (i < n) {
      // Hot loop: no calls, no allocation; leaves only on a pattern or anchor end,
      // or where a long pattern has something to report (`long.next`).
      const stop = long.next < base + n ? (long.next - base) | 0 : n; // an int, for the loop's compare
      do s = delta[s + classOf[chunk[i++]!]!]!;
      while (s >= 0 && i < stop);
      if (s < 0) {
        s = this.event(base + i, s, onMatch);
        i += long.skipRun(base + i, s / this.matcher.stride, chunk, i);
      } else if (i === stop) {
        s = this.event(base + i, s, onMatch);
      }
    }
    this.state = s;
    this.pos = base + n;
    long.end();
  }

  /** Out of the hot loop: what happens at stream offset `e`, in state `s` (negated if it ends something). */
  private event(e: number, s: number, onMatch: MatchHandler): number {
    const ended = s < 0;
    this.state = ended ? ~s : s;
    this.pos = e;
    this.long.at(e, ended ? this.state / this.matcher.stride : -1, onMatch);
    return this.state;
  }
}
