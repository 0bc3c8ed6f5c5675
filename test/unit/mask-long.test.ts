/**
 * Patterns longer than the Matcher's anchor (src/guards/long.ts): memory
 * bounded whatever a secret's size or entropy, and the same matches, in the
 * same order, with the same `partial`, as the definition — checked against
 * brute force with anchors forced down to 1–5 bytes, over a 2–3 letter
 * alphabet so patterns overlap themselves and each other.
 */
import { describe, expect, test } from 'vitest';
import { rng } from './rng.js';
import { Matcher } from '../../src/guards/matcher.js';
import { patternsFor } from '../../src/secrets/forms.js';
import { Redactor } from '../../src/guards/redact.js';
import { WideScanner } from '../../src/verify/wide.js';
import { reference } from './mask-reference.js';

const MiB = 2 ** 20;
const randomBytes = (next: (n: number) => number, n: number) => Buffer.from(Array.from({ length: n }, () => next(256)));

function cut(input: Buffer, next: (n: number) => number, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; ) {
    const n = 1 + next(max);
    out.push(input.subarray(i, (i += n)));
  }
  return out;
}

/** Every occurrence as `index@end`, by end, longest first; equal patterns under the first index. */
function expectedMatches(patterns: Buffer[], text: Buffer): string[] {
  const out: string[] = [];
  for (let end = 1; end <= text.length; end++) {
    patterns
      .map((p, i) => ({ p, i }))
      .filter(({ p, i }) => patterns.findIndex((q) => q.equals(p)) === i && end >= p.length && text.subarray(end - p.length, end).equals(p))
      .sort((a, b) => b.p.length - a.p.length)
      .forEach(({ i }) => out.push(`${i}@${end}`));
  }
  return out;
}

/** Longest suffix of text[0, end) that is a proper prefix of a pattern. */
function partialAt(patterns: Buffer[], text: Buffer, end: number): number {
  let best = 0;
  for (const p of patterns) for (let k = Math.min(p.length - 1, end); k > best; k--) if (text.subarray(end - k, end).equals(p.subarray(0, k))) best = k;
  return best;
}

describe('long patterns = brute force', () => {
  test.each([1, 2, 3, 5])('anchor %i: matches, order and partial, Scanner and WideScanner', (anchor) => {
    for (let seed = 1; seed <= 150; seed++) {
      const next = rng(seed * 7 + anchor);
      const abc = 'abc'.slice(0, 2 + next(2));
      const word = (n: number) => Buffer.from(Array.from({ length: n }, () => abc[next(abc.length)]).join(''));
      const patterns = Array.from({ length: 1 + next(6) }, () => word(1 + next(next(2) ? 30 : 8)));
      if (next(3) === 0) patterns.push(Buffer.from(patterns[0]!)); // an equal pattern reports under the first
      let text = word(next(300));
      for (let k = next(5); k > 0; k--) {
        const at = next(text.length + 1);
        const p = patterns[next(patterns.length)]!;
        text = Buffer.concat([text.subarray(0, at), p, p.subarray(0, next(p.length + 1)), text.subarray(at)]);
      }
      const m = new Matcher(patterns, { anchor });
      expect(m.anchor).toBe(anchor);
      const sc = m.createScanner();
      const got: string[] = [];
      const chunks = cut(text, next, seed % 3 ? 40 : 2);
      for (const c of chunks) {
        sc.feed(c, (i, end) => {
          got.push(`${i}@${end}`);
          expect(sc.offset, `seed ${seed}`).toBe(end);
          expect(sc.partial, `seed ${seed} partial at ${end}`).toBe(partialAt(patterns, text, end));
        });
        expect(sc.partial, `seed ${seed} partial after ${sc.offset}`).toBe(partialAt(patterns, text, sc.offset));
      }
      const expected = expectedMatches(patterns, text);
      expect(got, `seed ${seed}`).toEqual(expected);
      const wide = new WideScanner(m);
      const wideGot: string[] = [];
      for (const c of chunks) wide.feed(c, (i, end) => wideGot.push(`${i}@${end}`));
      expect(wideGot, `seed ${seed} wide`).toEqual(expected);
    }
  });

  test('anchors of mixed lengths, when the budget binds: the same as brute force', () => {
    let mixed = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const next = rng(seed + 1000);
      const word = (n: number) => Buffer.from(Array.from({ length: n }, () => 'abcd'[next(4)]).join(''));
      const stem = word(next(6));
      const patterns = Array.from({ length: 2 + next(12) }, () => Buffer.concat([next(2) ? stem : Buffer.alloc(0), word(1 + next(25))]));
      for (const p of patterns.slice(0, 3)) {
        const prefix = p.subarray(0, 1 + next(p.length)); // whole in the DFA: its anchor grows past what it shares with p
        patterns.push(prefix, prefix.subarray(next(prefix.length)), p.subarray(next(p.length)));
      }
      let text = word(next(200));
      for (let k = next(6); k > 0; k--) {
        const at = next(text.length + 1);
        text = Buffer.concat([text.subarray(0, at), patterns[next(patterns.length)]!, text.subarray(at)]);
      }
      const m = new Matcher(patterns, { anchor: 8, budget: 4 * 5 * (4 + next(30)) });
      if (new Set(m.long.anchorOf).size > 1) mixed++;
      const got: string[] = [];
      const wide: string[] = [];
      const sc = m.createScanner();
      const w = new WideScanner(m);
      for (const c of cut(text, next, 30)) {
        sc.feed(c, (i, end) => {
          got.push(`${i}@${end}`);
          expect(sc.partial, `seed ${seed} partial at ${end}`).toBe(partialAt(patterns, text, end));
        });
        w.feed(c, (i, end) => wide.push(`${i}@${end}`));
      }
      const expected = expectedMatches(patterns, text);
      expect(got, `seed ${seed} (anchor ${m.anchor}, ${m.stateCount} states)`).toEqual(expected);
      expect(wide, `seed ${seed} wide`).toEqual(expected);
    }
    expect(mixed).toBeGreaterThan(30); // the case this test is for did occur
  });

  test('patterns that start with a run, in streams of long runs (skipped whole): the same as brute force', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = rng(seed + 2000);
      const word = (n: number) => Buffer.from(Array.from({ length: n }, () => 'abc'[next(3)]).join(''));
      const run = (n: number) => Buffer.alloc(n, 'a');
      const anchor = 2 + next(6);
      const patterns = Array.from({ length: 1 + next(4) }, () => Buffer.concat([run(1 + next(12)), next(4) ? word(1 + next(10)) : Buffer.alloc(0)]));
      const parts: Buffer[] = [];
      for (let k = 3 + next(8); k > 0; k--) parts.push(run(next(3) ? next(60) : next(2000)), next(2) ? patterns[next(patterns.length)]! : word(1 + next(5)));
      const text = Buffer.concat(parts);
      const m = new Matcher(patterns, { anchor });
      const got: string[] = [];
      const sc = m.createScanner();
      const chunks = cut(text, next, seed % 2 ? 50 : 9000);
      for (const c of chunks) {
        sc.feed(c, (i, end) => {
          got.push(`${i}@${end}`);
          expect(sc.partial, `seed ${seed} partial at ${end}`).toBe(partialAt(patterns, text, end));
        });
        expect(sc.partial, `seed ${seed} partial after ${sc.offset}`).toBe(partialAt(patterns, text, sc.offset));
      }
      const expected = expectedMatches(patterns, text);
      expect(got, `seed ${seed}`).toEqual(expected);
      const wide: string[] = [];
      const w = new WideScanner(m);
      for (const c of chunks) w.feed(c, (i, end) => wide.push(`${i}@${end}`));
      expect(wide, `seed ${seed} wide`).toEqual(expected);
    }
  }, 30_000);

  test('a long pattern shorter than a short one ending at the same offset still comes after it', () => {
    // q is whole in the DFA (a prefix of r, so its anchor grew to all of it); p is cut to a 1-byte anchor.
    const patterns = ['xyzabcdefgh', 'xyzabcdef', 'cdef'].map((v) => Buffer.from(v));
    const m = new Matcher(patterns, { anchor: 32, budget: 600 });
    expect([m.anchor, m.long.bytes.length]).toEqual([1, 2]);
    const got: string[] = [];
    m.createScanner().feed(Buffer.from('--xyzabcdefgh'), (i, end) => got.push(`${i}@${end}`));
    expect(got).toEqual(['1@11', '2@11', '0@13']);
  });

  test('WideScanner: long matches across lanes and chunks, in runs that overlap themselves', () => {
    const next = rng(99);
    const p = Buffer.concat([Buffer.alloc(3000, 'z'), Buffer.from('end')]);
    const patterns = [p, Buffer.alloc(40, 'z'), Buffer.from('zzzend'), randomBytes(next, 500)];
    const m = new Matcher(patterns, { anchor: 16 });
    const parts = [Buffer.alloc(5000, 'z'), Buffer.from('end'), patterns[3]!, Buffer.alloc(9000, 'z'), Buffer.from('endzz'), patterns[3]!.subarray(0, 499)];
    const input = Buffer.concat(Array.from({ length: 5 }, () => parts).flat());
    const plain: string[] = [];
    const sc = m.createScanner();
    const chunks = cut(input, next, 30_000);
    for (const c of chunks) sc.feed(c, (i, end) => plain.push(`${i}@${end}`));
    const wide: string[] = [];
    const w = new WideScanner(m);
    for (const c of chunks) w.feed(c, (i, end) => wide.push(`${i}@${end}`));
    expect(wide).toEqual(plain);
    expect(plain.filter((s) => s.startsWith('0@'))).toHaveLength(10);
    expect(plain.filter((s) => s.startsWith('3@'))).toHaveLength(5);
    expect(plain.filter((s) => s.startsWith('1@'))).toHaveLength(5 * (5000 + 9000 - 2 * 39));
  });
});

describe('the Redactor with secrets longer than the anchor', () => {
  test('property: the output of every occurrence masked, merged, and the end-of-input tail rule', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = rng(seed);
      const word = (n: number) => Array.from({ length: n }, () => 'ab'[next(2)]).join('');
      const values = Array.from({ length: 1 + next(3) }, () => word(33 + next(60)));
      let text = word(next(400));
      for (let k = 1 + next(4); k > 0; k--) {
        const at = next(text.length + 1);
        const v = values[next(values.length)]!;
        text = text.slice(0, at) + v + v.slice(0, next(v.length)) + text.slice(at);
      }
      const patterns = patternsFor(values.map((v, i) => ({ id: `s${i}`, value: Buffer.from(v) })));
      const out: Buffer[] = [];
      const r = new Redactor(patterns, (c) => out.push(Buffer.from(c)), { idleMs: 0 });
      let maxHeld = 0;
      for (const c of cut(Buffer.from(text), next, seed % 2 ? 50 : 3)) r.write(c), (maxHeld = Math.max(maxHeld, r.held));
      r.end();
      const shown = Buffer.concat(out).toString('latin1');
      expect(shown, `seed ${seed}`).toBe(reference(patterns.map((p) => p.bytes), Buffer.from(text)));
      expect(maxHeld).toBeLessThan(Math.max(...patterns.map((p) => p.bytes.length)));
    }
  });
});


describe('memory bounded whatever the value', () => {
  const value = randomBytes(rng(500), 500 * 1024);
  const patterns = patternsFor([{ id: 'p12', value }]);

  test('a 500 KiB random binary secret (BuildKit\'s limit), all its forms, compiles to tables under 64 MiB', () => {
    const m = new Matcher(patterns.map((p) => p.bytes));
    expect(m.maxLength).toBe(Math.max(...patterns.map((p) => p.bytes.length)));
    expect(m.tableBytes).toBeLessThan(64 * MiB);
  });

  test('and is masked whole in the output, in 64 KiB chunks', () => {
    const input = Buffer.concat([Buffer.from('#7 0.3 '), value, Buffer.from('\n#7 DONE\n'), patterns.find((p) => p.form === 'base64')!.bytes, Buffer.from(' end\n')]);
    const out: Buffer[] = [];
    const r = new Redactor(patterns, (c) => out.push(Buffer.from(c)), { idleMs: 0 });
    for (let i = 0; i < input.length; i += 65536) r.write(input.subarray(i, i + 65536));
    r.end();
    expect(Buffer.concat(out).toString('latin1')).toBe('#7 0.3 ***\n#7 DONE\n*** end\n');
    expect(r.counts().get('p12')).toBe(2);
  });

  test.each<[string, Buffer]>([
    ['100 KiB of zeros', Buffer.alloc(100 * 1024)],
    ['64 zero bytes, then random ones', Buffer.concat([Buffer.alloc(64), randomBytes(rng(2), 50_000)])],
    ['a 1 KiB block repeated', Buffer.concat(Array.from({ length: 100 }, () => randomBytes(rng(3), 1024)))],
    ['a Fibonacci word', fibonacci(100_000)],
  ])('a low-entropy secret, %s: small tables, and found where the stream repeats it', (_name, value) => {
    const bytes = patternsFor([{ id: 's', value }]).map((p) => p.bytes);
    const m = new Matcher(bytes);
    expect(m.tableBytes).toBeLessThan(20 * MiB); // the DFA's 16 MiB budget, and little more
    const input = Buffer.concat([Buffer.alloc(70_000), value, value.subarray(0, 5000), value, Buffer.alloc(20_000)]);
    for (const sc of [m.createScanner(), new WideScanner(m)]) {
      let raw = 0;
      for (let i = 0; i < input.length; i += 65536) sc.feed(input.subarray(i, i + 65536), (p) => void (p === 0 && raw++));
      expect(raw).toBe(occurrences(value, input));
    }
  });
});

/** Occurrences of p in text, overlapping ones included (KMP: linear, so fine for long runs). */
function occurrences(p: Buffer, text: Buffer): number {
  const pi = new Int32Array(p.length);
  for (let i = 1, b = 0; i < p.length; i++) {
    while (b > 0 && p[i] !== p[b]) b = pi[b - 1]!;
    pi[i] = p[i] === p[b] ? ++b : b;
  }
  let count = 0;
  for (let i = 0, b = 0; i < text.length; i++) {
    while (b > 0 && (b === p.length || text[i] !== p[b])) b = pi[b - 1]!;
    if (text[i] === p[b]) b++;
    if (b === p.length) count++;
  }
  return count;
}

function fibonacci(n: number): Buffer {
  let [a, b] = ['a', 'ab'];
  while (b.length < n) [a, b] = [b, b + a];
  return Buffer.from(b.slice(0, n));
}
