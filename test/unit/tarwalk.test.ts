/**
 * The synchronous tar walker of the image scan (src/verify/tarwalk.ts):
 * what it reads of each header format, that content reaches the sink
 * exactly, that a producer may reuse its chunk buffer once feed() is done,
 * and the archives it refuses.
 */
import { describe, expect, test } from 'vitest';
import { patternsFor } from '../../src/secrets/forms.js';
import { scanArchive } from '../../src/verify/save.js';
import { describeHits } from '../../src/verify/scan.js';
import { Search } from '../../src/verify/search.js';
import { TarFormatError, TarWalker, paxRecords, type Span, type WalkHeader } from '../../src/verify/tarwalk.js';
import { chunks, imageArchive, tarOf } from './verify-helpers.js';
import { rng } from './rng.js';

interface Seen {
  header: WalkHeader;
  content: Buffer;
}

/** Walks `tar` fed in pieces of `size` bytes; returns each entry with its content. */
function walk(tar: Buffer, size = tar.length): Seen[] {
  const seen: Seen[] = [];
  const w = new TarWalker((header) => {
    const parts: Buffer[] = [];
    const entry = { header, content: Buffer.alloc(0) };
    seen.push(entry);
    return { data: (c) => void parts.push(Buffer.from(c)), end: () => void (entry.content = Buffer.concat(parts)) };
  });
  for (let i = 0; i < tar.length; i += size) expect(w.feed(tar.subarray(i, i + size))).toBeUndefined();
  w.end();
  return seen;
}

/** A header block with the given fields (octal numbers), its checksum computed. */
function header(fields: { name?: string; size?: number | Buffer; type?: string; linkname?: string; magic?: 'ustar' | 'gnu' | 'v7'; prefix?: string; signed?: boolean }): Buffer {
  const h = Buffer.alloc(512);
  h.write(fields.name ?? 'f', 0, 100, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  if (Buffer.isBuffer(fields.size)) fields.size.copy(h, 124);
  else h.write(`${(fields.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write(fields.type ?? '0', 156, 'latin1');
  if (fields.linkname) h.write(fields.linkname, 157, 100, 'latin1');
  const magic = fields.magic ?? 'ustar';
  if (magic === 'ustar') h.write('ustar\x0000', 257, 'latin1');
  if (magic === 'gnu') h.write('ustar  \0', 257, 'latin1');
  if (fields.prefix) h.write(fields.prefix, 345, 155, 'latin1');
  h.write('        ', 148, 'latin1');
  let sum = 0;
  for (const b of h) sum += fields.signed && b > 127 ? b - 256 : b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
/** One PAX record, `LEN key=value\n`. */
function rec(k: string, v: Buffer | string): Buffer {
  const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from('\n')]);
  let n = body.length + 1;
  while (String(n).length + body.length !== n) n++;
  return Buffer.concat([Buffer.from(String(n)), body]);
}

const END = Buffer.alloc(1024);
const entry = (h: Parameters<typeof header>[0], data: Buffer = Buffer.alloc(0)) => Buffer.concat([header({ ...h, size: h.size ?? data.length }), pad(data)]);

describe('headers', () => {
  test('names, sizes and content of a tar-stream tar, fed in every chunk size from 1 byte', async () => {
    const tar = await tarOf([
      { name: 'a.txt', data: 'hello' },
      { name: 'dir/', type: 'directory' },
      { name: 'dir/b', data: Buffer.alloc(1500, 7) },
      { name: 'l', type: 'symlink', linkname: 'dir/b' },
    ]);
    for (const size of [1, 7, 511, 512, 513, 4096, tar.length]) {
      const seen = walk(tar, size);
      expect(seen.map((s) => [s.header.name, s.header.type, s.header.size, s.header.linkname])).toEqual([
        ['a.txt', 'file', 5, null],
        ['dir/', 'directory', 0, null],
        ['dir/b', 'file', 1500, null],
        ['l', 'symlink', 0, 'dir/b'],
      ]);
      expect(seen[0]!.content.toString()).toBe('hello');
      expect(seen[2]!.content.equals(Buffer.alloc(1500, 7))).toBe(true);
    }
  });

  test('the ustar prefix is joined to the name; GNU and v7 headers have none', () => {
    const tar = Buffer.concat([entry({ name: 'file', prefix: 'a/b' }), entry({ name: 'g', magic: 'gnu' }), entry({ name: 'v', magic: 'v7' }), END]);
    expect(walk(tar).map((s) => s.header.name)).toEqual(['a/b/file', 'g', 'v']);
  });

  test('a base-256 size and a signed checksum are read as Go reads them', () => {
    const big = Buffer.alloc(12);
    big[0] = 0x80;
    big.writeUInt16BE(600, 10);
    const tar = Buffer.concat([header({ name: 'n\xe9', size: big, signed: true }), pad(Buffer.alloc(600, 1)), END]);
    const [s] = walk(tar, 100);
    expect(s!.header.size).toBe(600);
    expect(s!.content.length).toBe(600);
  });

  test('GNU long names and long link targets apply to the next entry', () => {
    const long = `${'d/'.repeat(80)}file`;
    const target = `${'t/'.repeat(70)}x`;
    const tar = Buffer.concat([
      entry({ name: '././@LongLink', type: 'L', magic: 'gnu' }, Buffer.from(`${long}\0`)),
      entry({ name: '././@LongLink', type: 'K', magic: 'gnu' }, Buffer.from(`${target}\0`)),
      entry({ name: 'short', type: '2', linkname: 'short-target', magic: 'gnu' }),
      entry({ name: 'next' }, Buffer.from('z')),
      END,
    ]);
    const seen = walk(tar, 3);
    expect(seen.map((s) => [s.header.name, s.header.linkname])).toEqual([
      [long, target],
      ['next', null],
    ]);
  });

  test('PAX path, linkpath and size apply to the next entry only; their records are handed over as raw bytes', () => {
    const odd = Buffer.from([0x61, 0xff, 0x62]); // not UTF-8: kept byte for byte
    const records = Buffer.concat([rec('path', 'very/long/name'), rec('size', '3'), rec('SCHILY.xattr.user.k', odd)]);
    expect(paxRecords(records).get('SCHILY.xattr.user.k')).toEqual(odd);
    const tar = Buffer.concat([entry({ name: 'PaxHeader', type: 'x' }, records), header({ name: 'ignored', size: 0 }), pad(Buffer.from('abc')), entry({ name: 'after' }, Buffer.from('q')), END]);
    const seen = walk(tar, 5);
    expect(seen.map((s) => [s.header.name, s.header.size, s.content.toString('latin1')])).toEqual([
      ['very/long/name', 3, 'abc'],
      ['after', 1, 'q'],
    ]);
    expect(seen[0]!.header.pax!.get('SCHILY.xattr.user.k')).toEqual(odd);
    expect(seen[1]!.header.pax).toBeNull();
  });

  test('a PAX global header is handed over as an entry of its own and changes no name', () => {
    const records = rec('comment', 'hello-gl');
    const tar = Buffer.concat([entry({ name: 'pax_global_header', type: 'g' }, records), entry({ name: 'f' }, Buffer.from('1')), END]);
    const seen = walk(tar);
    expect(seen.map((s) => [s.header.type, s.header.name])).toEqual([
      ['pax-global-header', 'pax_global_header'],
      ['file', 'f'],
    ]);
    expect(seen[0]!.header.pax!.get('comment')!.toString()).toBe('hello-gl');
  });

  test('header-only types have no content whatever their size field says (as in Go)', () => {
    // A hard link whose header claims 5 bytes: the next block is the next header, not content.
    const tar = Buffer.concat([header({ name: 'h', type: '1', linkname: 'f', size: 5 }), entry({ name: 'f' }, Buffer.from('12345')), END]);
    expect(walk(tar).map((s) => [s.header.name, s.header.size, s.content.toString()])).toEqual([
      ['h', 0, ''],
      ['f', 5, '12345'],
    ]);
  });
});

describe('spans: where each entry lies (for the byte lane, src/verify/lane.ts)', () => {
  test('every byte lies in exactly one span, in order; long headers belong to the entry after them; two zero blocks end the walk', () => {
    const records = Buffer.concat([rec('SCHILY.xattr.user.k', 'v')]);
    const junk = Buffer.from('not a header, after the end of the archive'); // never read as a header
    const tar = Buffer.concat([
      entry({ name: 'PaxHeader', type: 'x' }, records),
      entry({ name: 'a' }, Buffer.from('hello')),
      entry({ name: '././@LongLink', type: 'L', magic: 'gnu' }, Buffer.from('long/name\0')),
      entry({ name: 'short', magic: 'gnu' }, Buffer.alloc(512, 1)),
      entry({ name: 'pax_global_header', type: 'g' }, rec('comment', 'x')),
      END,
      junk,
    ]);
    for (const size of [1, 100, 512, tar.length]) {
      const spans: Span[] = [];
      const w = new TarWalker(() => undefined, (s) => spans.push(s));
      for (let i = 0; i < tar.length; i += size) expect(w.feed(tar.subarray(i, i + size))).toBeUndefined();
      w.end();
      expect(spans.map((s) => [s.header?.name ?? null, s.start, s.content, s.contentEnd, s.end])).toEqual([
        ['a', 0, 1536, 1541, 2048],
        ['long/name', 2048, 3584, 4096, 4096],
        ['pax_global_header', 4096, 5120, 5120, 5120],
        [null, 5120, 5632, 5632, 5632],
        [null, 5632, 6144, 6144, Infinity],
      ]);
    }
  });
});

describe('refused archives', () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['a damaged checksum', (() => { const h = entry({ name: 'f' }, Buffer.from('x')); h[0] = 0x7a; return Buffer.concat([h, END]); })(), /checksum/],
    ['a size that is not a number', Buffer.concat([header({ name: 'f', size: Buffer.from('9999x\0') }), END]), /checksum|size/],
    ['an archive ending inside an entry', entry({ name: 'f' }, Buffer.alloc(1000)).subarray(0, 900), /ends inside an entry/],
    ['an archive ending inside a header', entry({ name: 'f' }).subarray(0, 300), /ends inside an entry/],
    ['a PAX header over 4 MiB', header({ name: 'p', type: 'x', size: (4 << 20) + 1 }), /larger than 4 MiB/],
  ];
  test.each(cases)('%s', (_, tar, message) => {
    expect(() => walk(tar)).toThrow(TarFormatError);
    expect(() => walk(tar)).toThrow(message);
  });
});

describe('chunk reuse', () => {
  // The scan reads docker save into one reused buffer: nothing below a feed() may keep a chunk.
  // Every chunk is overwritten with junk as soon as feed() (and its promise) is done; the hits must
  // be those of the same archive fed in fresh chunks.
  async function* reused(buf: Buffer, sizes: () => number): AsyncGenerator<Buffer> {
    const scratch = Buffer.alloc(70_000);
    for (let at = 0; at < buf.length; ) {
      const n = Math.min(sizes(), buf.length - at, scratch.length);
      buf.copy(scratch, 0, at, at + n);
      at += n;
      yield scratch.subarray(0, n);
      scratch.fill(0x41, 0, n); // the consumer asked for the next chunk: this one is gone
    }
  }

  const noise = (n: number) => {
    const next = rng(n);
    return Buffer.from(Array.from({ length: n }, () => next(256)));
  };

  test('hits in plain and gzip layers, JSON and names are the same as with fresh chunks', async () => {
    const TOKEN = 'tok_reuse_4b3a29d8c7e6f5';
    const { archive } = await imageArchive({
      layout: 'oci',
      layers: [
        { entries: [{ name: 'a', data: `x${TOKEN}y` }, { name: `n-${TOKEN}`, data: 'q' }] },
        // Random bytes: the compressed blob is as large as the data, so it spans many chunks.
        { gzip: true, entries: [{ name: 'big', data: Buffer.concat([noise(200_000), Buffer.from(TOKEN), noise(5000)]) }] },
      ],
      // A config larger than a sniff block, the value far into it: its chunks are collected, not sniffed.
      config: { architecture: 'amd64', os: 'linux', config: { Labels: { pad: '.'.repeat(20_000) }, Env: [`T=${TOKEN}`] } },
    });
    const run = async (source: AsyncIterable<Uint8Array>) => {
      const search = new Search(patternsFor([{ id: 'tok', value: Buffer.from(TOKEN) }]));
      const { layout } = await scanArchive(source, search);
      return describeHits(search, layout, new Map()).map((h) => h.where).sort();
    };
    const fresh = await run(chunks(archive, 4096));
    expect(fresh.length).toBe(4);
    const next = rng(11);
    for (let round = 0; round < 5; round++) {
      expect(await run(reused(archive, () => 1 + next(3000)))).toEqual(fresh);
    }
    expect(await run(reused(archive, () => 65536))).toEqual(fresh);
  });

  test('a value straddling two reused chunks of one file is found', async () => {
    const TOKEN = 'tok_straddle_99aa88bb77';
    const data = Buffer.concat([Buffer.alloc(1000, 0x2e), Buffer.from(TOKEN), Buffer.alloc(1000, 0x2e)]);
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'f', data }] }], config: { os: 'linux' } });
    const search = new Search(patternsFor([{ id: 'tok', value: Buffer.from(TOKEN) }]));
    let first = true;
    const cut = archive.indexOf(TOKEN) + 5;
    const { layout } = await scanArchive(reused(archive, () => (first ? ((first = false), cut) : 65536)), search);
    expect(describeHits(search, layout, new Map()).map((h) => h.path)).toEqual(['/f']);
  });
});
