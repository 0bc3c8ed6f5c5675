/** The pure parts of verify: sniffing blobs, naming JSON fields, reading the archive layout, parsing argv, finding the iidfile. */
import { describe, expect, test } from 'vitest';
import { UsageError } from '../../src/util/errors.js';
import { parseVerifyArgs, type VerifyArgs } from '../../src/args/verify.js';
import { iidFileFor, userIidFile } from '../../src/pipeline/verify-step.js';
import { hitLines, summaryLine } from '../../src/verify/format.js';
import { fieldPath, walkJson } from '../../src/verify/json.js';
import { digestOfPath, readLayout } from '../../src/verify/layout.js';
import type { VerifyResult } from '../../src/verify/scan.js';
import { sniff, type BlobKind } from '../../src/verify/sniff.js';
import { gzip, tarOf, ustarHeader } from './verify-helpers.js';

describe('sniff', () => {
  const v7 = (() => {
    // An old v7 header: no ustar magic, only a checksum.
    const h = ustarHeader('old.txt', 3);
    h.fill(0, 257, 265);
    h.write('        ', 148, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return h;
  })();
  test.each<[string, () => Promise<Buffer> | Buffer, BlobKind]>([
    ['a tar-stream tar', () => tarOf([{ name: 'a', data: 'x' }]), 'tar'],
    ['a gzip tar', async () => gzip(await tarOf([{ name: 'a', data: 'x' }])), 'gzip'],
    ['zstd magic', () => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]), 'zstd'],
    ['an empty tar (zero blocks)', () => Buffer.alloc(1024), 'tar'],
    ['a v7 tar header (checksum only)', () => v7, 'tar'],
    ['a header with a wrong checksum', () => Buffer.concat([ustarHeader('a', 1).fill(0x41, 0, 1).fill(0x20, 148, 156)]), 'other'],
    ['JSON object', () => Buffer.from('{"a":1}'), 'json'],
    ['JSON array after blanks', () => Buffer.from(' \n[1]'), 'json'],
    ['text', () => Buffer.from('1.0'), 'other'],
    ['empty', () => Buffer.alloc(0), 'other'],
    ['gzip magic with another method', () => Buffer.from([0x1f, 0x8b, 0x07]), 'other'],
  ])('%s', async (_name, make, kind) => {
    expect(sniff(await make())).toBe(kind);
  });
});

describe('JSON field paths', () => {
  test.each<[string, string | number, string]>([
    ['', 'config', 'config'],
    ['config', 'Env', 'config.Env'],
    ['config.Env', 2, 'config.Env[2]'],
    ['config.Labels', 'org.opencontainers.image.source', 'config.Labels["org.opencontainers.image.source"]'],
    ['', 0, '[0]'],
    ['a', 'with "quote"', 'a["with \\"quote\\""]'],
  ])('%s + %s', (parent, key, path) => {
    expect(fieldPath(parent, key)).toBe(path);
  });

  test('walkJson visits strings, numbers and keys', () => {
    const seen: [string, string][] = [];
    walkJson({ config: { Env: ['A=1'], Labels: { 'x.y': 'v' }, Port: 80, Tty: false, None: null }, history: [{ created_by: 'RUN a' }] }, (f, t) => seen.push([f, t]));
    expect(seen).toEqual([
      ['config (key)', 'config'],
      ['config.Env (key)', 'Env'],
      ['config.Env[0]', 'A=1'],
      ['config.Labels (key)', 'Labels'],
      ['config.Labels["x.y"] (key)', 'x.y'],
      ['config.Labels["x.y"]', 'v'],
      ['config.Port (key)', 'Port'],
      ['config.Port', '80'],
      ['config.Tty (key)', 'Tty'],
      ['config.None (key)', 'None'],
      ['history (key)', 'history'],
      ['history[0].created_by (key)', 'created_by'],
      ['history[0].created_by', 'RUN a'],
    ]);
  });
});

describe('archive layout', () => {
  const hex = (c: string) => c.repeat(64);
  test.each<[string, string | undefined]>([
    [`blobs/sha256/${hex('a')}`, `sha256:${hex('a')}`],
    [`${hex('b')}.json`, `sha256:${hex('b')}`],
    [`${hex('b')}/layer.tar`, undefined],
    ['manifest.json', undefined],
  ])('digest of %s', (path, digest) => {
    expect(digestOfPath(path)).toBe(digest);
  });

  test('Docker layout: diff ids, history entries that made layers, a repeated layer through a symlink', () => {
    const json = new Map<string, unknown>([
      ['manifest.json', [{ Config: `${hex('c')}.json`, Layers: ['l0/layer.tar', 'l1/layer.tar', 'l2/layer.tar'] }]],
      [`${hex('c')}.json`, { rootfs: { diff_ids: ['sha256:d0', 'sha256:d1', 'sha256:d0'] }, history: [{}, { empty_layer: true }, {}, {}] }],
    ]);
    const layout = readLayout(json, new Map([['l2/layer.tar', 'l0/layer.tar']]));
    expect(layout.layerCount).toBe(3);
    expect([...layout.layers]).toEqual([
      ['l0/layer.tar', { index: 0, of: 3, digest: 'sha256:d0', history: 0 }],
      ['l1/layer.tar', { index: 1, of: 3, digest: 'sha256:d1', history: 2 }],
    ]);
    expect([...layout.configs]).toEqual([[`${hex('c')}.json`, `sha256:${hex('c')}`]]);
  });

  test('history is not attributed when its layer count does not agree', () => {
    const json = new Map<string, unknown>([
      ['manifest.json', [{ Config: 'c.json', Layers: ['l0/layer.tar'] }]],
      ['c.json', { rootfs: { diff_ids: ['sha256:d0'] }, history: [{}, {}] }],
    ]);
    expect(readLayout(json, new Map()).layers.get('l0/layer.tar')).toEqual({ index: 0, of: 1, digest: 'sha256:d0', history: undefined });
  });

  test('no manifest at all: nothing is placed', () => {
    expect(readLayout(new Map(), new Map())).toEqual({ layers: new Map(), configs: new Map(), layerCount: 0 });
  });
});

describe('parseVerifyArgs', () => {
  test.each<[string, string[], Partial<VerifyArgs>]>([
    ['an image', ['app:1'], { image: 'app:1', format: 'text', secrets: [] }],
    ['secret flags as a build takes them', ['--secret', 'id=a,from=env:A', '--secret=id=b', '--netrc', 'machine=h,login=l,password=env:P', 'app'], { secrets: ['id=a,from=env:A', 'id=b'], netrc: ['machine=h,login=l,password=env:P'], image: 'app' }],
    ['--npmrc, --config, --docker', ['--npmrc=registry=https://r/,token=env:T', '--config', 'ci.yml', '--docker', '/usr/bin/docker', 'app'], { npmrc: ['registry=https://r/,token=env:T'], config: 'ci.yml', docker: '/usr/bin/docker' }],
    ['--format json', ['--format', 'json', 'app'], { format: 'json', image: 'app' }],
    ['--format=text, image first', ['app', '--format=text'], { format: 'text', image: 'app' }],
    ['an image id', ['sha256:0123'], { image: 'sha256:0123' }],
    ['-- before an odd image name', ['--', '-odd'], { image: '-odd' }],
    ['--help', ['--help'], { help: true, image: undefined }],
    ['nothing', [], { image: undefined, help: false }],
  ])('%s', (_name, argv, expected) => {
    expect(parseVerifyArgs(argv)).toMatchObject(expected);
  });

  test.each<[string, string[], RegExp]>([
    ['two images', ['a', 'b'], /takes one image, got "a", "b"/],
    ['a build-only option', ['--dry-run', 'a'], /does not take --dry-run/],
    ['a docker build flag', ['-t', 'a'], /does not take -t/],
    ['a bad format', ['--format', 'yaml', 'a'], /--format must be text or json, got "yaml"/],
    ['a missing value', ['a', '--secret'], /--secret needs a value/],
    ['--config twice', ['--config', 'a', '--config', 'b', 'x'], /--config is given twice/],
  ])('refuses %s', (_name, argv, message) => {
    expect(() => parseVerifyArgs(argv)).toThrow(UsageError);
    expect(() => parseVerifyArgs(argv)).toThrow(message);
  });
});

describe('--verify: the image id file', () => {
  test.each<[string, string[], string | undefined]>([
    ['none', ['-t', 'app', '.'], undefined],
    ['--iidfile PATH', ['--iidfile', 'out/id', '.'], 'out/id'],
    ['--iidfile=PATH', ['--iidfile=/tmp/id', '.'], '/tmp/id'],
    ['the last one wins, as in docker', ['--iidfile', 'a', '--iidfile=b', '.'], 'b'],
  ])('user iidfile: %s', (_name, args, path) => {
    expect(userIidFile(args)).toBe(path);
  });

  test.each<[string, string[], { path: string; args: string[] }]>([
    ['no --iidfile: one in the run directory, added to docker argv', ['-t', 'app', '.'], { path: '/run/d/iid', args: ['--iidfile', '/run/d/iid'] }],
    ['no tag either', ['.'], { path: '/run/d/iid', args: ['--iidfile', '/run/d/iid'] }],
    ["the user's, relative to the working directory", ['--iidfile', 'id.txt', '.'], { path: '/work/id.txt', args: [] }],
    ["the user's, absolute", ['--iidfile=/x/id', '.'], { path: '/x/id', args: [] }],
  ])('%s', (_name, args, expected) => {
    expect(iidFileFor(args, '/run/d', '/work')).toEqual(expected);
  });
});

describe('printing a result', () => {
  const base: VerifyResult = {
    image: 'app:1', id: 'sha256:abc', clean: true, hits: [], layers: 3, layerBytes: 250_000_000, archiveBytes: 251_000_000,
    files: 1200, jsonFiles: 4, historyEntries: 1, unreadable: [], ms: 1250,
  };
  test.each<[string, Partial<VerifyResult>, string[]]>([
    ['clean', {}, ['app:1 (sha256:abc): clean; searched 3 layers (250.0 MB of layer data, 1200 files), 4 JSON files (image config, manifests) and 1 history entry in 1.25 s (200 MB/s)']],
    ['clean, with the ids (never values) and count of the secrets searched for', { secrets: ['api_token', 'npm'] }, ['app:1 (sha256:abc): clean; searched 3 layers (250.0 MB of layer data, 1200 files), 4 JSON files (image config, manifests) and 1 history entry in 1.25 s (200 MB/s); 2 secrets searched for: api_token, npm']],
    ['one secret', { secrets: ['greeting'] }, [expect.stringMatching(/\(200 MB\/s\); 1 secret searched for: greeting$/)]],
    ['an image id as given', { image: 'sha256:abc', layerBytes: 2048 }, ['sha256:abc: clean; searched 3 layers (2.0 kB of layer data, 1200 files), 4 JSON files (image config, manifests) and 1 history entry in 1.25 s (0 MB/s)']],
    [
      'leaks',
      {
        clean: false,
        hits: [
          { secret: 'a', source: 'env:A', forms: ['raw'], occurrences: 2, in: 'layer', where: 'secret "a" (env:A) in layer 1 sha256:x: /f' },
          { secret: 'b', source: 'env:B', forms: ['base64', 'raw'], occurrences: 1, in: 'config', where: 'secret "b" (env:B) in the image config: config.Env[0]' },
        ],
      },
      [
        'LEAK secret "a" (env:A) in layer 1 sha256:x: /f (2 times) [raw]',
        'LEAK secret "b" (env:B) in the image config: config.Env[0] [base64, raw]',
        'app:1 (sha256:abc): 2 leaks of 2 secrets; searched 3 layers (250.0 MB of layer data, 1200 files), 4 JSON files (image config, manifests) and 1 history entry in 1.25 s (200 MB/s)',
      ],
    ],
    ['a blob not searched', { unreadable: [{ blob: 'blobs/sha256/z', reason: 'it is zstd-compressed' }] }, ['NOT SEARCHED blobs/sha256/z: it is zstd-compressed', expect.stringMatching(/^app:1 \(sha256:abc\): NOT VERIFIED; /)]],
  ])('%s', (_name, change, lines) => {
    const r = { ...base, ...change };
    expect([...hitLines(r), summaryLine(r)]).toEqual(lines);
  });
});
