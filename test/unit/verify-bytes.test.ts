/**
 * `verify` searches every byte of the archive (issue 22 item 9): a value in
 * any header field of a layer's tar (uname, gname, devmajor, mtime text, the
 * bytes a GNU header keeps where ustar has its prefix, …), in the padding
 * after a file's content, after the end-of-archive blocks — plain and gzip
 * layers — and in the outer archive's own headers, padding and end blocks,
 * is found and named. `docker load`/`docker save` keep these bytes as they
 * are. The tars are written by hand (tar-stream writes none of these fields
 * as given).
 */
import { describe, expect, test } from 'vitest';
import { patternsFor } from '../../src/secrets/forms.js';
import { scanArchive } from '../../src/verify/save.js';
import { describeHits, type VerifyHit } from '../../src/verify/scan.js';
import { Search } from '../../src/verify/search.js';
import { chunks, imageArchive, patchTar, rawTar, sha256, type RawTarEntry } from './verify-helpers.js';

const TOKEN = 'tok_9f8e7d6c5b4a39281706';
const DEV = 'dev_8c1f00aa77b3'; // 16 bytes: devmajor and devminor together
const MT = 'mt_5e4d3c2b1'; // 12 bytes: the mtime field, the bytes after the prefix
const VALUES = { tok: TOKEN, dev: DEV, mt: MT };

function newSearch(): Search {
  return new Search(patternsFor(Object.entries(VALUES).map(([id, v]) => ({ id, value: Buffer.from(v) }))));
}

const brief = (h: VerifyHit) => ({ secret: h.secret, in: h.in, layer: h.layer?.index, path: h.path, part: h.part, file: h.file });

async function hitsOf(archive: Buffer, size: number): Promise<ReturnType<typeof brief>[]> {
  const search = newSearch();
  const { layout } = await scanArchive(chunks(archive, size), search);
  const hits = describeHits(search, layout, new Map());
  for (const h of hits) for (const v of Object.values(VALUES)) expect(h.where).not.toContain(v);
  return hits.map(brief);
}

/** A clean first layer, then the layer under test. */
async function imageWith(layer: Buffer, gzip: boolean, layout: 'docker' | 'oci' = 'docker'): Promise<Buffer> {
  const base = rawTar([{ name: 'etc/', type: '5' }, { name: 'etc/os-release', data: 'NAME=test\n' }]);
  return (await imageArchive({ layout, layers: [{ entries: [], tar: base }, { entries: [], tar: layer, gzip }], config: { os: 'linux' } })).archive;
}

const file = (e: Partial<RawTarEntry>): RawTarEntry => ({ name: 'f', data: 'hello\n', ...e });
const zeros = (n: number) => Buffer.alloc(n);

const layerCases: Array<[string, Buffer, { secret: string; path?: string; part: string }]> = [
  ['uname', rawTar([file({ fields: { uname: TOKEN } })]), { secret: 'tok', path: '/f', part: 'header' }],
  ['gname', rawTar([file({ fields: { gname: TOKEN } })]), { secret: 'tok', path: '/f', part: 'header' }],
  ['uname of a directory', rawTar([{ name: 'd/', type: '5', fields: { uname: TOKEN } }]), { secret: 'tok', path: '/d', part: 'header' }],
  ['linkname of a regular file', rawTar([file({ fields: { linkname: TOKEN } })]), { secret: 'tok', path: '/f', part: 'linkname' }],
  ['where a GNU header keeps atime/ctime (ustar\'s prefix, never joined to the name)', rawTar([file({ gnu: true, fields: { prefix: `\0\0\0\0${TOKEN}` } })]), { secret: 'tok', path: '/f', part: 'header' }],
  ['devmajor and devminor', rawTar([file({ fields: { devmajor: DEV.slice(0, 8), devminor: DEV.slice(8) } })]), { secret: 'dev', path: '/f', part: 'header' }],
  ['the mtime field as text', rawTar([file({ fields: { mtime: MT } })]), { secret: 'mt', path: '/f', part: 'header' }],
  ['the 12 bytes after the prefix', rawTar([file({ fields: { rest: MT } })]), { secret: 'mt', path: '/f', part: 'header' }],
  ['the padding after a file\'s content', rawTar([file({ pad: `\0${TOKEN}` }), { name: 'g', data: 'x' }]), { secret: 'tok', path: '/f', part: 'padding' }],
  ['the padding after the last file', rawTar([file({ pad: TOKEN })]), { secret: 'tok', path: '/f', part: 'padding' }],
  ['after the end-of-archive blocks (a 10 KiB record\'s padding)', rawTar([file({})], Buffer.concat([zeros(1024 + 700), Buffer.from(TOKEN), zeros(10240 - 1024 - 700 - TOKEN.length - 1536)])), { secret: 'tok', part: 'end' }],
];

describe.each([false, true])('a value in a layer\'s tar, gzip %s', (gzip) => {
  test.each(layerCases)('in %s: found and named', async (_, layer, want) => {
    const archive = await imageWith(layer, gzip);
    for (const size of [7, 512, 65536]) {
      expect(await hitsOf(archive, size)).toEqual([{ in: 'layer', layer: 1, file: expect.any(String), path: undefined, ...want }]);
    }
  });
});

test('OCI layout: a value in the uname of a gzip layer\'s file is found', async () => {
  const archive = await imageWith(rawTar([file({ fields: { uname: TOKEN } })]), true, 'oci');
  expect(await hitsOf(archive, 4096)).toEqual([{ secret: 'tok', in: 'layer', layer: 1, path: '/f', part: 'header', file: expect.stringMatching(/^blobs\/sha256\//) }]);
});

describe('a value in the outer archive (docker save\'s own tar)', () => {
  const layerTar = `${sha256('layer0')}/layer.tar`;
  const version = `${sha256('layer0')}/VERSION`;
  const cases: Array<[string, 'docker' | 'oci', (tar: Buffer) => Buffer, { part: string; file?: string }]> = [
    ['the uname of manifest.json', 'docker', (t) => patchTar(t, 'manifest.json', { fields: { uname: TOKEN } }), { part: 'header', file: 'manifest.json' }],
    ['the gname of a layer.tar', 'docker', (t) => patchTar(t, layerTar, { fields: { gname: TOKEN } }), { part: 'header', file: layerTar }],
    ['the padding after manifest.json', 'docker', (t) => patchTar(t, 'manifest.json', { pad: TOKEN }), { part: 'padding', file: 'manifest.json' }],
    ['the padding after a layer\'s VERSION file', 'docker', (t) => patchTar(t, version, { pad: `\0${TOKEN}` }), { part: 'padding', file: version }],
    ['the uname of index.json', 'oci', (t) => patchTar(t, 'index.json', { fields: { uname: TOKEN } }), { part: 'header', file: 'index.json' }],
    ['after the end-of-archive blocks', 'docker', (t) => Buffer.concat([t, zeros(300), Buffer.from(TOKEN), zeros(2000)]), { part: 'end' }],
  ];
  test.each(cases)('in %s: found and named', async (_, layout, plant, want) => {
    const layer = rawTar([file({})]);
    const { archive } = await imageArchive({ layout, layers: [{ entries: [], tar: layer }], config: { os: 'linux' } });
    const planted = plant(archive);
    for (const size of [7, 512, 65536]) {
      expect(await hitsOf(planted, size)).toEqual([{ secret: 'tok', in: 'archive', layer: undefined, path: undefined, file: undefined, ...want }]);
    }
  });
});

test('a value in every place at once: each is its own hit, and content hits are still named by file', async () => {
  const layer = rawTar([file({ data: `x${TOKEN}\n`, fields: { uname: TOKEN }, pad: `\0${TOKEN}` })]);
  const hits = await hitsOf(await imageWith(layer, true), 512);
  expect(hits.map((h) => h.part)).toEqual(['content', 'header', 'padding']);
});
