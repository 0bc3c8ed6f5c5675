/**
 * Multi-pattern byte matcher: Aho-Corasick compiled to a DFA, so scanning
 * costs one table lookup per input byte however many patterns there are.
 * Used by the log redactor (`redact.ts`) and, later, the image-layer scan.
 *
 *   const m = new Matcher([Buffer.from('hunter22'), Buffer.from('aHVudGVyMjI')]);
 *   const sc = m.createScanner();
 *   sc.feed(chunk1, (i, end) => ...);   // state carries over between chunks
 *   sc.feed(chunk2, (i, end) => ...);   // `end` is an offset in the whole stream
 *
 * Layout. Bytes are first mapped to classes (`classOf`: class 0 = every byte
 * that occurs in no pattern), which shrinks the table from states x 256 to
 * states x classes (base64/token alphabets: ~70 classes). `delta` holds, for
 * state s and class c at `s * stride + c`, the next state already multiplied
 * by the stride — so the hot loop is `s = delta[s + classOf[byte]]` — and
 * stored bitwise-negated (`~x`, < 0) when the next state ends a pattern, so
 * the common no-match step costs one sign test.
 *
 * Outputs. For every occurrence of every pattern the handler is called once,
 * longest first for occurrences ending at the same offset (per state the
 * longest pattern that is a suffix of it, then a chain of shorter suffix
 * patterns). Patterns with equal bytes are reported under the first index.
 * `Scanner.partial` is the length of the longest input suffix that is a
 * proper prefix of some pattern: no later match starts before
 * `offset - partial`, and it is below `maxLength`.
 */

/** Called for each occurrence: pattern index, stream offset just past its last byte. */
export type MatchHandler = (patternIndex: number, end: number) => void;

const MAX_TABLE = 2 ** 31 - 1;

export class Matcher {
  /** Length of the longest pattern (0 when there are none). */
  readonly maxLength: number;
  /** Number of DFA states (trie nodes, root included). */
  readonly stateCount: number;
  /** Bytes held by the tables; grows with the total length of the patterns. */
  readonly tableBytes: number;
  /** @internal byte → class. */
  readonly classOf: Uint16Array;
  /** @internal transitions, see the header comment. */
  readonly delta: Int32Array;
  /** @internal classes per state. */
  readonly stride: number;
  /** @internal per state: longest suffix of it that is a proper prefix of a pattern. */
  readonly partialOf: Int32Array;
  /** @internal per state: longest pattern ending in it, or -1. */
  readonly outOf: Int32Array;
  /** @internal per pattern: next shorter pattern that is a suffix of it, or -1. */
  readonly shorterOut: Int32Array;
  readonly #lengths: Int32Array;

  constructor(patterns: readonly Uint8Array[]) {
    this.#lengths = Int32Array.from(patterns, (p, i) => {
      if (p.length === 0) throw new RangeError(`Matcher: pattern ${i} is empty`);
      return p.length;
    });
    this.maxLength = this.#lengths.reduce((a, b) => Math.max(a, b), 0);

    // Byte classes, in order of first appearance (class 0: bytes in no pattern).
    const classOf = new Uint16Array(256);
    let stride = 1;
    for (const p of patterns) for (const b of p) if (classOf[b] === 0) classOf[b] = stride++;
    this.classOf = classOf;
    this.stride = stride;

    // 1. The trie, in a growable table of child links (-1: none).
    let cap = 64;
    let child = new Int32Array(cap * stride).fill(-1);
    const depth: number[] = [0];
    const terminal: number[] = [-1];
    const branches: boolean[] = [false];
    patterns.forEach((p, index) => {
      let s = 0;
      for (const b of p) {
        const at = s * stride + classOf[b]!;
        let t = child[at]!;
        if (t < 0) {
          t = depth.length;
          if (t === cap) {
            cap *= 2;
            const grown = new Int32Array(cap * stride).fill(-1);
            grown.set(child);
            child = grown;
          }
          child[at] = t;
          branches[s] = true;
          depth.push(depth[s]! + 1);
          terminal.push(-1);
          branches.push(false);
        }
        s = t;
      }
      if (terminal[s] === -1) terminal[s] = index;
    });
    const n = depth.length;
    if (n * stride > MAX_TABLE) throw new RangeError(`Matcher: ${n} states x ${stride} classes is too large`);

    // 2. Breadth-first: failure links, complete transitions, outputs.
    const next = new Int32Array(n * stride);
    const fail = new Int32Array(n);
    const outOf = new Int32Array(n).fill(-1);
    const partialOf = new Int32Array(n);
    const shorterOut = new Int32Array(patterns.length).fill(-1);
    const queue = new Int32Array(n);
    let head = 0;
    let tail = 0;
    for (let c = 0; c < stride; c++) {
      const t = child[c]!;
      next[c] = t > 0 ? t : 0;
      if (t > 0) queue[tail++] = t;
    }
    while (head < tail) {
      const s = queue[head++]!;
      const f = fail[s]!;
      const own = terminal[s]!;
      outOf[s] = own >= 0 ? own : outOf[f]!;
      partialOf[s] = branches[s] ? depth[s]! : partialOf[f]!;
      if (own >= 0) shorterOut[own] = outOf[f]!;
      for (let c = 0; c < stride; c++) {
        const t = child[s * stride + c]!;
        const viaFail = next[f * stride + c]!;
        if (t >= 0) {
          fail[t] = viaFail;
          next[s * stride + c] = t;
          queue[tail++] = t;
        } else {
          next[s * stride + c] = viaFail;
        }
      }
    }

    // 3. Pre-multiply by the stride; negate targets that end a pattern.
    for (let i = 0; i < next.length; i++) {
      const t = next[i]!;
      next[i] = outOf[t]! >= 0 ? ~(t * stride) : t * stride;
    }
    this.delta = next;
    this.partialOf = partialOf;
    this.outOf = outOf;
    this.shorterOut = shorterOut;
    this.stateCount = n;
    this.tableBytes = next.byteLength + 3 * 4 * n + 4 * patterns.length + 256;
  }

  get patternCount(): number {
    return this.#lengths.length;
  }

  lengthOf(patternIndex: number): number {
    return this.#lengths[patternIndex]!;
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

  constructor(private readonly matcher: Matcher) {
    this.delta = matcher.delta;
    this.classOf = matcher.classOf;
  }

  /** Bytes fed so far. */
  get offset(): number {
    return this.pos;
  }

  /** Length of the partial match in progress: no future match starts before `offset - partial`. */
  get partial(): number {
    return this.matcher.partialOf[this.state / this.matcher.stride]!;
  }

  /**
   * Scans `chunk`, calling `onMatch` for every occurrence ending in it. During
   * the call `offset` and `partial` describe the position just after the match.
   */
  feed(chunk: Uint8Array, onMatch: MatchHandler): void {
    const delta = this.delta;
    const classOf = this.classOf;
    const n = chunk.length;
    let s = this.state;
    let i = 0;
    while (i < n) {
      // Hot loop: no calls, no allocation; leaves only on a pattern end.
      do s = delta[s + classOf[chunk[i++]!]!]!;
      while (s >= 0 && i < n);
      if (s < 0) {
        s = ~s;
        this.state = s;
        this.pos += i;
        this.report(s / this.matcher.stride, onMatch);
        this.pos -= i;
      }
    }
    this.state = s;
    this.pos += n;
  }

  private report(state: number, onMatch: MatchHandler): void {
    const { outOf, shorterOut } = this.matcher;
    for (let p = outOf[state]!; p >= 0; p = shorterOut[p]!) onMatch(p, this.pos);
  }
}
