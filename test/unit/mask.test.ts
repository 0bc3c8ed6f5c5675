import { inspect } from 'node:util';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { rng } from './rng.js';
import { Matcher } from '../../src/guards/matcher.js';
import { patternsFor, tooShortToMask, type Pattern } from '../../src/secrets/forms.js';
import { Redactor, RedactStream, type RedactorOptions } from '../../src/guards/redact.js';
import { reference } from './mask-reference.js';

const b = (s: string) => Buffer.from(s);
const b64 = (s: string) => b(s).toString('base64');
const patternsOf = (values: Record<string, string>) => patternsFor(Object.entries(values).map(([id, v]) => ({ id, value: b(v) })));


function chunked(input: Buffer, sizes: 'whole' | 'bytes' | ((n: number) => number)): Buffer[] {
  if (sizes === 'whole') return [input];
  const out: Buffer[] = [];
  for (let i = 0; i < input.length; ) {
    const n = sizes === 'bytes' ? 1 : 1 + sizes(17);
    out.push(input.subarray(i, (i += n)));
  }
  return out;
}

/** Redacts `chunks`; `flushAfter(i)` true: an idle flush after chunk i. */
function redact(patterns: readonly Pattern[], chunks: Buffer[], flushAfter = (_i: number) => false) {
  const out: Buffer[] = [];
  const r = new Redactor(patterns, (c) => out.push(Buffer.from(c)), { idleMs: 0 });
  let maxHeld = 0;
  chunks.forEach((c, i) => {
    r.write(c);
    maxHeld = Math.max(maxHeld, r.held);
    if (flushAfter(i)) r.flush();
  });
  r.end();
  return { text: Buffer.concat(out).toString('latin1'), counts: Object.fromEntries(r.counts()), maxHeld };
}
const mask = (values: Record<string, string>, input: string, sizes: 'whole' | 'bytes' = 'whole') =>
  redact(patternsOf(values), chunked(b(input), sizes)).text;


describe('patternsFor', () => {
  const forms = (value: string) => patternsFor([{ id: 's', value: b(value) }]).map((p): [string, string] => [p.form, p.bytes.toString('latin1')]);
  test.each<[string, string, [string, string][]]>([
    ['raw', 'hunter22', [['raw', 'hunter22']]],
    ['base64, padded and not', 'hunter2', [['base64', 'aHVudGVyMg=='], ['base64', 'aHVudGVyMg']]],
    ['encodeURIComponent', 'p@ss w/rd!', [['url', encodeURIComponent('p@ss w/rd!')]]],
    ['form encoding, + for space', 'p@ss w/rd!', [['url', encodeURIComponent('p@ss w/rd!').replace(/%20/g, '+')]]],
    ['URLSearchParams', "p@ss w/rd!~'*", [['url', new URLSearchParams({ a: "p@ss w/rd!~'*" }).toString().slice(2)]]],
    ['RFC 3986', "p@ss!'()*", [['url', 'p%40ss%21%27%28%29%2A']]],
    ['UTF-8 percent-encoded byte by byte', 'pä€ss🔑', [['url', encodeURIComponent('pä€ss🔑')]]],
    ['each line of >= 4 visible bytes, \\r dropped', 'first-line\r\nsecond\nabc\n', [['line', 'first-line'], ['line', 'second']]],
    ['an indented line, also trimmed', 'key:\n    value: x1\n', [['line', '    value: x1'], ['line', 'value: x1']]],
  ])('%s', (_name, value, expected) => {
    expect(forms(value)).toEqual(expect.arrayContaining(expected));
  });

  test.each<[string, string, (f: [string, string]) => boolean]>([
    ['no url form when encoding changes nothing', 'abcd1234', ([form]) => form === 'url'],
    ['no line of < 4 visible bytes', 'abcdef\n a b c \nxyz\r\n', ([form, v]) => form === 'line' && !v.includes('abcdef')],
    ['no line patterns for a one-line value', 'abcdef', ([form]) => form === 'line'],
    ['no line keeps its \\r', 'first-line\r\nsecond\n', ([form, v]) => form === 'line' && v.endsWith('\r')],
  ])('%s', (_name, value, unwanted) => {
    expect(forms(value).filter(unwanted)).toEqual([]);
  });

  test.each([['', true], ['abc', true], ['abcd', false], ['\0\0\0\0', false]])('tooShortToMask(%j) = %s', (value, short) => {
    expect(tooShortToMask(b(value))).toBe(short);
    expect(patternsFor([{ id: 's', value: b(value) }]).length === 0).toBe(short);
  });

  test('deduplicates by bytes; the first secret keeps a shared pattern', () => {
    const ps = patternsFor([{ id: 'a', value: b('same-value') }, { id: 'b', value: b('same-value') }, { id: 'c', value: b('x\nsame-value') }]);
    expect(new Set(ps.map((p) => p.bytes.toString('hex'))).size).toBe(ps.length);
    expect(ps.find((p) => p.bytes.equals(b('same-value')))?.id).toBe('a');
    expect(ps.some((p) => p.id === 'b')).toBe(false);
  });

  test('a pattern never prints its bytes: not as text, hex or a byte list', () => {
    const [p] = patternsOf({ s: 'hunter22' });
    const printed = (JSON.stringify(p) + inspect(p, { depth: 5 }) + String(p) + JSON.stringify({ ...p })).replace(/\s+/g, '');
    for (const form of ['hunter22', b('hunter22').toString('hex'), [...b('hunter22')].join(',')]) expect(printed).not.toContain(form);
  });

  // base64(prefix + value + suffix) contains a base64 pattern of the value, for every alignment.
  test.each([0, 1, 2, 3, 4, 5])('base64 of the value after %i other bytes is found', (k) => {
    const next = rng(k);
    for (let n = 4; n < 40; n++) {
      const value = Buffer.from(Array.from({ length: n }, () => next(256)));
      const ps = patternsFor([{ id: 's', value }]).filter((p) => p.form === 'base64');
      for (const suffix of [0, 1, 2, 3]) {
        const blob = Buffer.concat([Buffer.alloc(k, 0x41), value, Buffer.alloc(suffix, 0x7a)]).toString('base64');
        expect(ps.some((p) => blob.includes(p.bytes.toString('latin1'))), `n=${n} suffix=${suffix}`).toBe(true);
      }
    }
  });
});

describe('Matcher', () => {
  test('every occurrence with its stream offset, longest first, across chunks', () => {
    const m = new Matcher(['he', 'she', 'his', 'hers'].map(b));
    const sc = m.createScanner();
    const seen: [string, number][] = [];
    for (const c of ['ush', 'ers', ' his']) sc.feed(b(c), (i, end) => seen.push([['he', 'she', 'his', 'hers'][i]!, end]));
    expect(seen).toEqual([['she', 4], ['he', 4], ['hers', 6], ['his', 10]]);
    expect(m.maxLength).toBe(4);
  });

  test('agrees with indexOf on random patterns, text and chunk sizes', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const next = rng(seed);
      const word = (n: number) => b(Array.from({ length: n }, () => 'abc'[next(3)]).join(''));
      const patterns = Array.from({ length: 1 + next(6) }, () => word(1 + next(5)));
      const text = word(next(300));
      const expected: string[] = [];
      patterns.forEach((p, i) => {
        if (patterns.findIndex((q) => q.equals(p)) !== i) return; // equal patterns report the first
        for (let at = text.indexOf(p); at >= 0; at = text.indexOf(p, at + 1)) expected.push(`${i}@${at + p.length}`);
      });
      const got: string[] = [];
      const sc = new Matcher(patterns).createScanner();
      for (const c of chunked(text, next)) sc.feed(c, (i, end) => got.push(`${i}@${end}`));
      expect(got.sort(), `seed ${seed}`).toEqual(expected.sort());
      expect(sc.partial).toBeLessThan(5);
    }
  });

  test('partial: the proper prefix in progress', () => {
    const sc = new Matcher([b('hunter22')]).createScanner();
    const partials = [...'xhunter22'].map((c) => (sc.feed(b(c), () => {}), sc.partial));
    expect(partials).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 0]);
  });

  test('an empty pattern is refused', () => {
    expect(() => new Matcher([b('ok'), b('')])).toThrow(/pattern 1 is empty/);
  });
});

describe('Redactor', () => {
  const [TOKEN, PEM, ODD] = ['ghp_R4nd0mT0k3n', 'BEGIN-KEY\nMIIEvQIBADAN\nEND-KEY', 'ghp_R4nd0mT0k3n /!'];
  test.each<[string, string, string]>([
    ['raw', TOKEN, `token=${TOKEN};`],
    ['each line of a multi-line value', PEM, PEM.split('\n').map((l) => `#5 0.1 ${l}`).join('\n')],
    ['base64, padded', TOKEN, `x ${b64(TOKEN)} y`],
    ['base64, unpadded', TOKEN, `x ${b64(TOKEN).replace(/=+$/, '')}.`],
    ['base64 inside a larger blob (Basic auth)', TOKEN, `Authorization: Basic ${b64(`user:${TOKEN}`)}`],
    ['base64 inside a blob at the other alignment', TOKEN, `"auth": "${b64(`us:${TOKEN}\n`)}"`],
    ['encodeURIComponent', ODD, `?p=${encodeURIComponent(ODD)}&x`],
    ['form encoding', ODD, `p=${encodeURIComponent(ODD).replace(/%20/g, '+')}&x`],
  ])('masks %s, whole and in 1-byte chunks', (_name, value, input) => {
    for (const sizes of ['whole', 'bytes'] as const) {
      const out = mask({ t: value }, input, sizes);
      expect(out).toContain('***');
      expect(out).not.toMatch(/R4nd0m|MIIE|BEGIN-KEY|UjRuZDBt|NG5kMG1U|SNG5kMG|bmQwbV|ZDBtVDBr/);
    }
  });

  test.each<[string, Record<string, string>, string, string]>([
    ['a value under 4 bytes is not masked', { a: 'abc' }, 'abc abcabc', 'abc abcabc'],
    ['overlapping values become one ***', { a: 'abcdef', b: 'defghi' }, 'xxabcdefghixx', 'xx***xx'],
    ['adjacent occurrences become one ***', { a: 'abcd' }, '-abcdabcd-abcd', '-***-***'],
    ['adjacent, while a longer one could still match', { a: 'abcd', b: 'abcdefgh' }, 'abcdabcdX', '***X'],
    ['a value inside a longer one', { a: 'abcdefgh', b: 'cdef' }, '1abcdefgh2cdef3abcdefg', '1***2***3***'],
    ['a shorter one completes first, the longer one then', { a: 'abcdefgh', b: 'bcde' }, 'abcdefghX', '***X'],
    ['a shorter one completes first, the longer one never', { a: 'abcdefgh', b: 'bcde' }, 'abcdefgX', 'a***fgX'],
    ['several secrets at once', { a: 'alpha-1', b: 'bravo-22', c: 'charlie-333' }, 'a=alpha-1 b=bravo-22,charlie-333.', 'a=*** b=***,***.'],
    ['a prefix that breaks off is released', { a: 'abcdefgh' }, 'abcdefg abcdx', 'abcdefg abcdx'],
    ['a >= 4 byte prefix at the end is masked', { a: 'abcdefgh' }, 'end: abcd', 'end: ***'],
  ])('%s', (_name, values, input, expected) => {
    expect(mask(values, input, 'whole')).toBe(expected);
    expect(mask(values, input, 'bytes')).toBe(expected);
  });

  test('binary input without a secret passes through unchanged', () => {
    const next = rng(7);
    const input = Buffer.from(Array.from({ length: 1 << 20 }, () => next(256)));
    const patterns = patternsOf({ a: 'not-in-the-input-1', b: 'another\nsecret-val' }).filter((p) => !input.includes(p.bytes));
    const out = redact(patterns, chunked(input, next));
    expect(Buffer.from(out.text, 'latin1').equals(input)).toBe(true);
  });

  test('counts: one per *** a secret appears in; every id listed', () => {
    const { counts } = redact(patternsOf({ a: 'alpha-1', b: 'bravo-22', c: 'unseen-3', d: 'xyzalpha-1' }), [b(`alpha-1 alpha-1alpha-1 ${b64('bravo-22')} bravo-22 xyzalpha-1`)]);
    expect(counts).toEqual({ a: 3, b: 2, c: 0, d: 1 });
  });

  // Odd seeds also flush at random chunk ends (as the idle timer would): then only "no secret" is checked.
  test('property: random text, secrets and chunk sizes: reference output, no secret, held < longest pattern', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const next = rng(seed);
      const word = (n: number, abc = 'abcd \n') => Array.from({ length: n }, () => abc[next(abc.length)]).join('');
      const list: string[] = []; // some secrets extend an earlier one: a held match, not yet final
      for (let k = 1 + next(4); k > 0; k--) list.push(list.length && next(2) ? list[next(list.length)] + word(1 + next(4), 'abcde') : word(4 + next(9), 'abcde\n'));
      let text = word(next(200));
      for (let k = next(6); k > 0; k--) {
        const at = next(text.length + 1);
        text = text.slice(0, at) + list[next(list.length)] + text.slice(at);
      }
      const patterns = patternsOf(Object.fromEntries(list.map((v, i) => [`s${i}`, v])));
      const { text: out, maxHeld } = redact(patterns, chunked(b(text), next), (i) => seed % 2 === 1 && next(3) === 0);
      if (seed % 2 === 0) expect(out, `seed ${seed}`).toBe(reference(patterns.map((p) => p.bytes), b(text)));
      // A value is masked as tools read it: without its trailing newline, and not at all below 4 bytes.
      for (const v of list) if (!tooShortToMask(b(v))) expect(out.includes(v.replace(/[\r\n]+$/, '')), `seed ${seed}`).toBe(false);
      expect(maxHeld).toBeLessThan(Math.max(1, ...patterns.map((p) => p.bytes.length)));
    }
  });
});

describe('idle flush', () => {
  afterEach(() => void vi.useRealTimers());
  const setup = (options: RedactorOptions = {}) => {
    vi.useFakeTimers();
    const out: string[] = [];
    const r = new Redactor(patternsOf({ t: 'hunter22' }), (c) => out.push(c.toString()), options);
    return { r, out };
  };

  test.each<[string, string, string, string]>([
    ['a held prefix of >= 4 bytes is released as ***; the rest joins it', 'pw: hunt', 'pw: ***', 'er22 ok'],
    ['a shorter one is released as is; the rest is still masked', 'pw: hu', 'pw: hu', 'nter22 ok'],
  ])('%s', (_name, first, atIdle, rest) => {
    const { r, out } = setup();
    r.write(b(first));
    expect(out.join('')).toBe('pw: ');
    vi.advanceTimersByTime(49);
    expect(out.join('')).toBe('pw: ');
    vi.advanceTimersByTime(1);
    expect(out.join('')).toBe(atIdle);
    r.write(b(rest));
    r.end();
    expect(out.join('')).toBe(`${atIdle.replace(/\*\*\*$/, '')}*** ok`);
    expect(r.counts().get('t')).toBe(1);
  });

  test('idleMs is configurable; writes restart the wait; nothing held, no timer', () => {
    const { r, out } = setup({ idleMs: 200 });
    r.write(b('ok\n'));
    expect(vi.getTimerCount()).toBe(0);
    r.write(b('hun'));
    vi.advanceTimersByTime(150);
    r.write(b('t'));
    vi.advanceTimersByTime(150);
    expect(out.join('')).toBe('ok\n');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(50);
    expect(out.join('')).toBe('ok\n***');
    expect(vi.getTimerCount()).toBe(0);
  });

  test('end() clears the timer and masks a >= 4 byte tail', () => {
    const { r, out } = setup();
    r.write(b('x hunte'));
    expect(vi.getTimerCount()).toBe(1);
    r.end();
    expect(vi.getTimerCount()).toBe(0);
    expect(out.join('')).toBe('x ***');
    expect(() => r.write(b('more'))).toThrow(/after end/);
  });

  test('the timer does not keep the process alive', () => {
    const r = new Redactor(patternsOf({ t: 'hunter22' }), () => {});
    r.write(b('hunt'));
    expect((r as unknown as { timer: NodeJS.Timeout }).timer.hasRef()).toBe(false);
    r.end();
  });
});

describe('RedactStream', () => {
  test('pipes, in order, and counts', async () => {
    const s = new RedactStream(patternsOf({ a: 'alpha-1', b: 'bravo-22' }));
    const parts = chunked(b('#5 0.1 alpha-1\n#5 0.2 bravo-22 and alpha-1\n#5 DONE 0.3s\nal'), 'bytes');
    const out: Buffer[] = [];
    for await (const c of Readable.from(parts).pipe(s)) out.push(c as Buffer);
    expect(Buffer.concat(out).toString()).toBe('#5 0.1 ***\n#5 0.2 *** and ***\n#5 DONE 0.3s\nal');
    expect(s.counts()).toEqual(new Map([['a', 2], ['b', 1]]));
  });

  test('idle flush reaches the reader while the input stays open', async () => {
    vi.useFakeTimers();
    const s = new RedactStream(patternsOf({ t: 'hunter22' }));
    const seen: string[] = [];
    s.on('data', (c: Buffer) => seen.push(c.toString()));
    s.write(b('building... hunt'));
    await vi.advanceTimersByTimeAsync(60);
    expect(seen.join('')).toBe('building... ***');
    s.write(b(' hunte'));
    expect(vi.getTimerCount()).toBe(1);
    s.destroy();
    expect(vi.getTimerCount()).toBe(0);
    vi.useRealTimers();
  });
});
