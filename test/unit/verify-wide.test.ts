/**
 * WideScanner (four lanes over the Matcher's tables) reports exactly what
 * the Matcher's own Scanner reports — same matches, same order — for any
 * chunking, including matches across lane and chunk boundaries.
 */
import { describe, expect, test } from 'vitest';
import { rng } from './rng.js';
import { Matcher } from '../../src/guards/matcher.js';
import { WideScanner } from '../../src/verify/wide.js';


function matches(feed: (chunk: Uint8Array, on: (i: number, end: number) => void) => void, chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const c of chunks) feed(c, (i, end) => out.push(`${i}@${end}`));
  return out;
}

function cut(input: Buffer, next: (n: number) => number, big: boolean): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; ) {
    const n = big ? 4096 + next(40_000) : 1 + next(300);
    out.push(input.subarray(i, (i += n)));
  }
  return out;
}

describe('WideScanner = Scanner', () => {
  test.each(Array.from({ length: 40 }, (_, seed) => seed))('seed %i', (seed) => {
    const next = rng(seed);
    const alphabet = 'ab' + 'cdefgh'.slice(0, next(6));
    const word = (len: number) => Array.from({ length: len }, () => alphabet[next(alphabet.length)]).join('');
    const patterns = Array.from({ length: 1 + next(12) }, () => Buffer.from(word(1 + next(seed % 2 ? 40 : 8))));
    const matcher = new Matcher(patterns);
    // Mostly noise with patterns planted, also where lanes and chunks meet.
    const input = Buffer.from(Array.from({ length: 200_000 }, () => (next(50) === 0 ? patterns[next(patterns.length)]!.toString() : word(1))).join(''));
    const chunks = cut(input, next, seed % 3 !== 0);
    const plain = matcher.createScanner();
    const wide = new WideScanner(matcher);
    const expected = matches((c, on) => plain.feed(c, on), chunks);
    expect(expected.length).toBeGreaterThan(100);
    expect(matches((c, on) => wide.feed(c, on), chunks)).toEqual(expected);
    expect(wide.offset).toBe(input.length);
  });

  // Anchors cut short and of mixed lengths (src/guards/anchors.ts): long patterns' matches cross lanes too.
  test.each(Array.from({ length: 12 }, (_, seed) => seed))('short anchors, seed %i', (seed) => {
    const next = rng(seed + 500);
    const word = (len: number) => Array.from({ length: len }, () => 'abc'[next(3)]).join('');
    const patterns = Array.from({ length: 2 + next(10) }, () => Buffer.from(word(2 + next(60))));
    const matcher = new Matcher(patterns, { anchor: 1 + (seed % 6), budget: 4 * 4 * (4 + next(30)) });
    const input = Buffer.from(Array.from({ length: 100_000 }, () => (next(30) === 0 ? patterns[next(patterns.length)]!.toString() : word(1))).join(''));
    const chunks = cut(input, next, true);
    const plain = matcher.createScanner();
    const expected = matches((c, on) => plain.feed(c, on), chunks);
    expect(expected.length).toBeGreaterThan(100);
    const wide = new WideScanner(matcher);
    expect(matches((c, on) => wide.feed(c, on), chunks)).toEqual(expected);
  });

  test('a match across every lane boundary of one chunk', () => {
    const p = Buffer.from('0123456789abcdef');
    const matcher = new Matcher([p, Buffer.from('cdef'), Buffer.from('zz')]);
    const input = Buffer.alloc(64_000, 'z'.charCodeAt(0));
    const q = Math.floor(input.length / 4);
    for (const b of [q, 2 * q, 3 * q, 4 * q - 8]) p.copy(input, b - 8);
    const expected = matches((c, on) => matcher.createScanner().feed(c, on), [input]);
    expect(matches((c, on) => new WideScanner(matcher).feed(c, on), [input])).toEqual(expected);
    expect(expected.filter((m) => m.startsWith('0@'))).toHaveLength(4);
  });

  // The skip filter (src/verify/skip.ts): bulk binary data with few places an anchor could start,
  // patterns that overlap, contain and end one another, planted across chunk and window edges.
  test.each(Array.from({ length: 30 }, (_, seed) => seed))('skip filter, seed %i', (seed) => {
    const next = rng(seed + 900);
    const bytes = (len: number) => Buffer.from(Array.from({ length: len }, () => next(256)));
    const base = Array.from({ length: 1 + next(6) }, () => bytes(6 + next(40)));
    const patterns = [...base];
    for (const p of base) {
      patterns.push(Buffer.concat([bytes(next(8)), p])); // ends with another pattern
      patterns.push(Buffer.concat([p.subarray(next(3)), bytes(6 + next(10))])); // starts inside one
    }
    const opts = seed % 3 === 0 ? { anchor: 6 + next(4) } : {};
    const matcher = new Matcher(patterns, opts);
    const input = bytes(300_000 + next(200_000));
    const chunks = cut(input, next, true); // views: what is planted below is in them
    const edges = chunks.map((c) => c.byteOffset - input.byteOffset).slice(1);
    for (let k = 0; k < 120; k++) {
      const p = patterns[next(patterns.length)]!;
      const at = k % 3 === 0 ? Math.max(0, edges[next(edges.length)]! - 1 - next(p.length - 1)) : next(input.length - p.length);
      p.copy(input, at);
    }
    const plain = matcher.createScanner();
    const expected = matches((c, on) => plain.feed(c, on), chunks);
    expect(expected.length).toBeGreaterThan(60);
    const wide = new WideScanner(matcher);
    expect(matches((c, on) => wide.feed(c, on), chunks)).toEqual(expected);
    expect(wide.filtered).toBeGreaterThan(chunks.length / 2);
  });

  test('skip filter: chunks of text where anchors could start everywhere are walked whole, with the same result', () => {
    const next = rng(77);
    const word = (len: number) => Array.from({ length: len }, () => 'abcdefgh'[next(8)]).join('');
    const patterns = Array.from({ length: 30 }, () => Buffer.from(word(8 + next(20))));
    const matcher = new Matcher(patterns);
    const input = Buffer.from(Array.from({ length: 200_000 }, () => (next(40) === 0 ? patterns[next(30)]!.toString() : word(1))).join(''));
    const chunks = cut(input, next, true);
    const wide = new WideScanner(matcher);
    const plain = matcher.createScanner();
    expect(matches((c, on) => wide.feed(c, on), chunks)).toEqual(matches((c, on) => plain.feed(c, on), chunks));
    expect(wide.filtered).toBe(0);
  });
});

