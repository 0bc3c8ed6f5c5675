/**
 * The image scan on archives built in memory: Docker and OCI layouts, plain
 * and gzip layers, file names and contents, config fields, chunk boundaries,
 * and what must not match (a value split across two files).
 */
import * as zlib from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { patternsFor } from '../../src/secrets/forms.js';
import { incompleteScan, scanArchive } from '../../src/verify/save.js';
import { describeHits, type VerifyHit } from '../../src/verify/scan.js';
import { Search } from '../../src/verify/search.js';
import { chunks, gzip, imageArchive, tarOf, ustarHeader, type ImageSpec } from './verify-helpers.js';

const TOKEN = 'tok_9f8e7d6c5b4a39281706';
const OTHER = 'pw-Z7yX6wV5uT4s';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function newSearch(values: Record<string, string> = { tok: TOKEN, pw: OTHER }): Search {
  return new Search(patternsFor(Object.entries(values).map(([id, v]) => ({ id, value: Buffer.from(v) }))));
}

async function scan(archive: Buffer, size: number | number[] = 65536, search = newSearch()): Promise<{ hits: VerifyHit[]; stats: Awaited<ReturnType<typeof scanArchive>>['stats'] }> {
  const { stats, layout } = await scanArchive(chunks(archive, size), search);
  return { hits: describeHits(search, layout, new Map([['tok', 'env:TOKEN'], ['pw', 'file:pw']])), stats };
}

/** The parts of a hit a test states, so expectations stay readable. */
const brief = (h: VerifyHit) => ({ secret: h.secret, in: h.in, layer: h.layer?.index, path: h.path, part: h.part, field: h.field, forms: h.forms });

const leaky = (layout: 'docker' | 'oci'): ImageSpec => ({
  layout,
  layers: [
    { entries: [{ name: 'etc/', type: 'directory' }, { name: 'etc/os-release', data: 'NAME=test\n' }] },
    // RUN echo $TOKEN > /f  (content), in a gzip layer
    { gzip: true, entries: [{ name: 'f', data: `${TOKEN}\n` }, { name: 'clean', data: 'nothing here' }] },
    // a file named after a secret, a symlink pointing at it, a PAX record holding one
    {
      entries: [
        { name: `tmp/${OTHER}.txt`, data: 'x' },
        { name: 'tmp/link', type: 'symlink', linkname: `/tmp/${OTHER}.txt` },
        { name: 'tmp/xattr', data: 'y', pax: { 'SCHILY.xattr.user.note': TOKEN } },
      ],
    },
  ],
  config: {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/bin', `TOKEN=${TOKEN}`], Labels: { 'org.leak': b64(TOKEN), plain: 'ok' }, Cmd: ['sh'] },
    history: [
      { created_by: 'ADD rootfs /' },
      { created_by: 'ENV TOKEN=…', empty_layer: true },
      { created_by: `RUN |1 TOKEN=${TOKEN} /bin/sh -c echo $TOKEN > /f # buildkit` },
      { created_by: 'COPY . /tmp' },
    ],
  },
});

describe.each(['docker', 'oci'] as const)('%s layout', (layout) => {
  test('finds each leak and names its layer, file or field', async () => {
    const { archive, layerDigests } = await imageArchive(leaky(layout));
    const { hits, stats } = await scan(archive);
    expect(hits.map(brief)).toEqual([
      { secret: 'tok', in: 'layer', layer: 1, path: '/f', part: 'content', field: undefined, forms: ['raw'] },
      { secret: 'pw', in: 'layer', layer: 2, path: '/tmp/***.txt', part: 'name', field: undefined, forms: ['raw'] },
      { secret: 'pw', in: 'layer', layer: 2, path: '/tmp/link', part: 'linkname', field: undefined, forms: ['raw'] },
      { secret: 'tok', in: 'layer', layer: 2, path: '/tmp/xattr', part: 'pax', field: undefined, forms: ['raw'] },
      { secret: 'tok', in: 'config', layer: undefined, path: undefined, part: undefined, field: 'config.Env[1]', forms: ['raw'] },
      { secret: 'tok', in: 'config', layer: undefined, path: undefined, part: undefined, field: 'config.Labels["org.leak"]', forms: ['base64'] },
      { secret: 'tok', in: 'config', layer: undefined, path: undefined, part: undefined, field: 'history[2].created_by', forms: ['raw'] },
    ]);
    // Layer digests: the blob digest (OCI) or the diff id (Docker layout); the history entry that made the layer.
    expect(hits[0]!.layer).toEqual({ index: 1, of: 3, digest: layerDigests[1], history: 2 });
    expect(hits[1]!.layer).toMatchObject({ index: 2, digest: layerDigests[2], history: 3 });
    expect(hits[0]!.where).toBe(`secret "tok" (env:TOKEN) in layer 1 ${layerDigests[1]} (history[2]): /f`);
    expect(stats.layers).toHaveLength(3);
    expect(stats.files).toBe(7);
    expect(stats.layerBytes).toBeGreaterThan(3 * 1024);
  });

  test.each([1, 7, 512, 4096])('the same hits when the archive arrives in %i-byte chunks', async (size) => {
    const { archive } = await imageArchive(leaky(layout));
    const whole = (await scan(archive)).hits;
    expect((await scan(archive, size)).hits).toEqual(whole);
  });

  test('no value in a printed hit', async () => {
    const { archive } = await imageArchive(leaky(layout));
    const printed = JSON.stringify((await scan(archive)).hits);
    for (const v of [TOKEN, OTHER, b64(TOKEN), b64(TOKEN).replace(/=+$/, '')]) expect(printed).not.toContain(v);
  });

  test('a clean image has no hit', async () => {
    const { archive } = await imageArchive({ layout, layers: [{ entries: [{ name: 'a', data: 'hello' }], gzip: layout === 'oci' }], config: { config: { Env: ['A=1'] }, history: [{ created_by: 'ADD a /' }] } });
    const { hits, stats } = await scan(archive);
    expect(hits).toEqual([]);
    expect(stats.layers).toHaveLength(1);
  });
});

describe('streams: one scanner per file', () => {
  test('a value straddling chunk boundaries inside one file is found', async () => {
    const big = Buffer.alloc(200_000, 'a');
    Buffer.from(TOKEN).copy(big, 131_070); // across the 128 KiB mark
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'big.bin', data: big }] }], config: {} });
    // Cut the archive inside the value, wherever the layer sits in it.
    const at = archive.indexOf(Buffer.from(TOKEN));
    expect(at).toBeGreaterThan(0);
    const { hits } = await scan(archive, [at + 3, at + 9, at + 10]);
    expect(hits.map(brief)).toEqual([{ secret: 'tok', in: 'layer', layer: 0, path: '/big.bin', part: 'content', field: undefined, forms: ['raw'] }]);
  });

  test('a value split across the end of one file and the start of the next is not a hit', async () => {
    const half = TOKEN.length >> 1;
    const { archive } = await imageArchive({
      layout: 'docker',
      layers: [{ entries: [{ name: 'a', data: `xxxx${TOKEN.slice(0, half)}` }, { name: 'b', data: `${TOKEN.slice(half)}yyyy` }] }],
      config: {},
    });
    expect((await scan(archive, 1)).hits).toEqual([]);
  });

  test('a value split between a file name and its content is not a hit', async () => {
    const half = TOKEN.length >> 1;
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: TOKEN.slice(0, half), data: TOKEN.slice(half) }] }], config: {} });
    expect((await scan(archive)).hits).toEqual([]);
  });

  test('a file holding the value many times is one hit with a count', async () => {
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'many', data: `${TOKEN} `.repeat(50) }] }], config: {} });
    const { hits } = await scan(archive);
    expect(hits).toHaveLength(1);
    expect(hits[0]!.occurrences).toBe(50);
  });

  test('the forms of one occurrence count once', async () => {
    // base64 matches in several overlapping forms (padded, unpadded, aligned cores); the raw value inside a line too.
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'b64', data: `${b64(TOKEN)}\n${b64(TOKEN)}\n` }, { name: 'raw', data: `x${TOKEN}y` }] }], config: {} });
    const { hits } = await scan(archive);
    expect(hits.map((h) => [h.path, h.occurrences, h.forms])).toEqual([['/b64', 2, ['base64']], ['/raw', 1, ['raw']]]);
  });

  test('the URL-encoded form is found', async () => {
    const value = 'p@ss w0rd/with+odd&chars';
    const search = newSearch({ pw: value });
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'pip.conf', data: `index-url = https://u:${encodeURIComponent(value)}@pypi.example/simple\n` }] }], config: {} });
    const { hits } = await scan(archive, 65536, search);
    expect(hits.map((h) => [h.path, h.forms])).toEqual([['/pip.conf', ['url']]]);
  });
});

describe('archive edge cases', () => {
  test('a value in a JSON file other than the config is named by file and field', async () => {
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'a', data: '1' }] }], config: {}, extra: [{ name: 'repositories', data: JSON.stringify({ [`img-${OTHER}`]: { latest: 'x' } }) }] });
    const { hits } = await scan(archive);
    expect(hits.map((h) => [h.in, h.file, h.field])).toEqual([['archive', 'repositories', '["img-***"] (key)']]);
  });

  test('a blob that is neither JSON nor a tar is searched as bytes', async () => {
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'a', data: '1' }] }], config: {}, extra: [{ name: 'notes.txt', data: `see ${TOKEN}` }] });
    expect((await scan(archive)).hits.map((h) => [h.in, h.file])).toEqual([['archive', 'notes.txt']]);
  });

  // Runs on every Node.js (no skip): without a zstd decoder the layer is listed as not searched, with one it is searched.
  test('a zstd layer is searched where Node.js has a decoder, and listed as not searched where it has none', async () => {
    const z = zlib as unknown as { createZstdDecompress?: unknown; zstdCompressSync?: (b: Buffer) => Buffer };
    if (typeof z.createZstdDecompress === 'function' && typeof z.zstdCompressSync === 'function') {
      const frame = z.zstdCompressSync(await tarOf([{ name: 'f', data: `x${TOKEN}y` }]));
      const archive = await tarOf([{ name: 'blobs/sha256/abc', data: frame }]);
      const { stats, hits } = await scan(archive);
      expect(stats.unreadable).toEqual([]);
      expect(hits.map((h) => [h.secret, h.path])).toEqual([['tok', '/f']]);
      return;
    }
    const zstdFrame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(600, 1)]);
    const archive = await tarOf([{ name: 'blobs/sha256/abc', data: zstdFrame }]);
    const { stats } = await scanArchive(chunks(archive, 4096), newSearch());
    expect(stats.unreadable).toEqual([{ blob: 'blobs/sha256/abc', reason: expect.stringMatching(/zstd-compressed and Node\.js v\d+\S* has no zstd decoder/) }]);
    expect(stats.layers).toEqual([]);
  });

  test('a value in a PAX global header or in a PAX record\'s key is found', async () => {
    // Headers tar-stream does not write: a global header ('g') whose record holds the value, and a
    // per-file PAX header ('x') whose key names it (an xattr named after a token).
    const typed = (name: string, size: number, type: string) => {
      const h = ustarHeader(name, size);
      h.write(type, 156, 'latin1');
      h.write('        ', 148, 'latin1');
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      return h;
    };
    const record = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let n = body.length + 1;
      while (String(n).length + body.length !== n) n++;
      return Buffer.from(`${n}${body}`);
    };
    const block = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
    const global = record('comment', `built with ${TOKEN}`);
    const local = record(`SCHILY.xattr.user.${OTHER}`, '1');
    const layer = Buffer.concat([
      typed('pax_global_header', global.length, 'g'), block(global),
      typed('PaxHeader/f', local.length, 'x'), block(local),
      typed('f', 1, '0'), block(Buffer.from('z')),
      Buffer.alloc(1024),
    ]);
    const archive = await tarOf([{ name: 'l/layer.tar', data: layer }]);
    const { hits } = await scan(archive);
    expect(hits.map((h) => [h.secret, h.path, h.part])).toEqual([
      ['pw', '/f', 'pax'],
      ['tok', '/pax_global_header', 'pax'],
    ]);
  });

  test('a corrupt gzip layer fails the scan, naming the blob', async () => {
    const good = gzip(await tarOf([{ name: 'a', data: 'x'.repeat(5000) }]));
    const bad = Buffer.concat([good.subarray(0, 40), Buffer.alloc(200, 0xff), good.subarray(240)]);
    const archive = await tarOf([{ name: 'l/layer.tar', data: bad }]);
    await expect(scan(archive)).rejects.toThrow(/l\/layer\.tar: the gzip data is corrupt/);
  });

  test('a layer cut short fails the scan', async () => {
    const layer = await tarOf([{ name: 'a', data: 'x'.repeat(5000) }]);
    const archive = await tarOf([{ name: 'l/layer.tar', data: layer.subarray(0, 2048) }]);
    await expect(scan(archive)).rejects.toThrow(/l\/layer\.tar: the layer is not a valid tar archive/);
  });

  test('an archive cut short fails the scan', async () => {
    const { archive } = await imageArchive(leaky('docker'));
    await expect(scan(archive.subarray(0, archive.length - 3000))).rejects.toThrow();
  });

  test('memory stays bounded: a 96 MB file streams through, the value at its end is found', async () => {
    const size = 96 << 20;
    const piece = Buffer.alloc(1 << 16, 'z');
    async function* archive(): AsyncGenerator<Buffer> {
      yield ustarHeader('l/layer.tar', size + 1536); // the outer entry: a layer tar holding one file
      yield ustarHeader('big.bin', size);
      for (let sent = 0; sent < size - piece.length; sent += piece.length) yield piece;
      const last = Buffer.alloc(piece.length, 'z');
      Buffer.from(TOKEN).copy(last, last.length - TOKEN.length);
      yield last;
      yield Buffer.alloc(1024); // end of the layer tar
      yield Buffer.alloc(1024); // end of the archive
    }
    let peak = 0;
    const sampled = async function* (): AsyncGenerator<Buffer> {
      for await (const c of archive()) {
        peak = Math.max(peak, process.memoryUsage().arrayBuffers);
        yield c;
      }
    };
    const base = process.memoryUsage().arrayBuffers;
    const search = newSearch();
    const { stats } = await scanArchive(sampled(), search);
    expect(search.hits.map((h) => h.place)).toEqual([{ kind: 'layer', blob: 'l/layer.tar', path: '/big.bin', part: 'content' }]);
    expect(stats.layerBytes).toBe(size + 1536);
    expect(peak - base).toBeLessThan(16 << 20);
  });
});

describe('Search.redact', () => {
  test.each([
    ['no secret', 'no secret'],
    [`/tmp/${TOKEN}`, '/tmp/***'],
    [`${TOKEN}${TOKEN}`, '***'],
    [`a ${b64(TOKEN)} b ${OTHER}`, 'a *** b ***'],
    [`ünï ${TOKEN}`, 'ünï ***'],
  ])('%s', (text, shown) => {
    expect(newSearch().redact(text)).toBe(shown);
  });
});

describe('a secret with " or \\ in a config key (leak-paths item 3)', () => {
  test('the printed field path shows *** where the JSON-escaped value stood, never the value', async () => {
    const QUOTED = 'q"uo\\te-s3cr3t';
    const search = newSearch({ q: QUOTED });
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'x', data: 'x' }] }], config: { architecture: 'amd64', os: 'linux', config: { Labels: { [`k-${QUOTED}`]: 'v' } }, history: [{ created_by: 'ADD x /' }] } });
    const { layout } = await scanArchive(chunks(archive, 65536), search);
    const hits = describeHits(search, layout, new Map([['q', 'env:Q']]));
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) {
      const printed = JSON.stringify(h);
      expect(printed.includes(JSON.stringify(QUOTED).slice(1, -1)), printed).toBe(false);
      expect(h.where.includes(QUOTED)).toBe(false);
      expect(h.where).toContain('***');
    }
  });
});

describe('a scan that read nothing is never "clean" (faults item 3)', () => {
  test.each<[string, () => Promise<Buffer>, RegExp]>([
    ['an empty stream (docker save printed nothing, or it was not read)', async () => Buffer.alloc(0), /printed nothing/],
    ['an archive without a manifest or config', async () => tarOf([{ name: 'x/layer.tar', data: await tarOf([{ name: 'f', data: 'x' }]) }]), /no image config/],
    ['a manifest naming a layer the archive does not hold', async () => {
      const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'f', data: 'x' }] }, { entries: [{ name: 'g', data: 'y' }] }], config: { architecture: 'amd64', os: 'linux', history: [] } });
      return cutLayer(archive);
    }, /layer/],
  ])('%s', async (_name, make, message) => {
    const search = newSearch();
    const scan = await scanArchive(chunks(await make(), 65536), search).catch((err: Error) => err);
    const problem = scan instanceof Error ? scan.message : incompleteScan(scan);
    expect(problem).toMatch(message);
  });

  test('a whole image is complete', async () => {
    const { archive } = await imageArchive(leaky('docker'));
    expect(incompleteScan(await scanArchive(chunks(archive, 65536), newSearch()))).toBeUndefined();
  });
});

/** The same archive without the tar entry of its first layer blob. */
function cutLayer(archive: Buffer): Buffer {
  const entries: Buffer[] = [];
  let dropped = false;
  for (let off = 0; off + 512 <= archive.length; ) {
    const header = archive.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    const span = 512 + Math.ceil(size / 512) * 512;
    if (!dropped && name.endsWith('layer.tar')) dropped = true;
    else entries.push(archive.subarray(off, off + span));
    off += span;
  }
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}
