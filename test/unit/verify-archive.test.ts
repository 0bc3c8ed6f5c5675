/**
 * `secbuild verify --archive FILE` (issue 23 item 5): an image archive on
 * disk — `docker save` output (Docker layout) or an OCI layout tar, plain or
 * gzip-compressed as a whole — searched as an image is, through the adapter
 * src/verify/output.ts. The file is opened without blocking: a FIFO or a
 * directory is refused at once, never read.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { patternsFor } from '../../src/secrets/forms.js';
import { UsageError } from '../../src/util/errors.js';
import { verifyArchive, verifyOutput } from '../../src/verify/output.js';
import type { SearchTargets } from '../../src/verify/scan.js';
import { parseVerifyArgs } from '../../src/args/verify.js';
import { gzip, imageArchive, tarOf, type ImageSpec } from './verify-helpers.js';

const TOKEN = 'arch_tok_5e4d3c2b1a0f9e8d';
const targets: SearchTargets = {
  patterns: patternsFor([{ id: 'tok', value: Buffer.from(TOKEN) }]),
  sources: new Map([['tok', 'env:TOKEN']]),
};

const dir = mkdtempSync(join(tmpdir(), 'secbuild-unit-archive-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (data: Buffer | string) => {
  const path = join(dir, `f${n++}`);
  writeFileSync(path, data);
  return path;
};

const image = (layout: 'docker' | 'oci', leak: boolean, gz = false): ImageSpec => ({
  layout,
  layers: [
    { entries: [{ name: 'etc/', type: 'directory' }, { name: 'etc/os-release', data: 'NAME=test\n' }] },
    { gzip: gz, entries: [{ name: 'app/.env', data: leak ? `TOKEN=${TOKEN}\n` : 'TOKEN=\n' }] },
  ],
  config: { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, history: [{ created_by: 'ADD rootfs /' }, { created_by: 'COPY .env /app/' }] },
});

const failure = async (p: Promise<unknown>): Promise<UsageError> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  return err as UsageError;
};

describe('verifyArchive: an image archive on disk', () => {
  test.each([
    ['docker', false],
    ['oci', false],
    ['oci', true],
  ] as const)('%s layout (gzip layers: %s): the planted value is found and named by layer and file', async (layout, gz) => {
    const { archive, layerDigests, diffIds, configDigest } = await imageArchive(image(layout, true, gz));
    const path = file(archive);
    const r = await verifyArchive(path, targets);
    expect(r.clean).toBe(false);
    expect(r.image).toBe(path);
    expect(r.id).toBe(configDigest);
    expect(r.layers).toBe(2);
    expect(r.historyEntries).toBe(0);
    expect(r.hits).toHaveLength(1);
    const hit = r.hits[0]!;
    expect(hit).toMatchObject({ secret: 'tok', source: 'env:TOKEN', in: 'layer', path: '/app/.env', layer: { index: 1, of: 2 } });
    expect(hit.layer?.digest).toBe(layout === 'oci' ? layerDigests[1] : diffIds[1]);
    expect(hit.where).toContain('app/.env');
    expect(hit.where).not.toContain(TOKEN);
  });

  test.each(['docker', 'oci'] as const)('%s layout without the value: clean, every layer searched', async (layout) => {
    const { archive } = await imageArchive(image(layout, false));
    const r = await verifyArchive(file(archive), targets);
    expect(r).toMatchObject({ clean: true, hits: [], layers: 2, unreadable: [] });
    expect(r.layerBytes).toBeGreaterThan(0);
  });

  test('a gzip-compressed archive (docker save | gzip) is opened and searched', async () => {
    const { archive } = await imageArchive(image('docker', true));
    const r = await verifyArchive(file(gzip(archive)), targets);
    expect(r.hits.map((h) => h.path)).toEqual(['/app/.env']);
  });

  test('a symlink to an archive is followed (the user named it)', async () => {
    const { archive } = await imageArchive(image('oci', true));
    const link = join(dir, 'link.tar');
    symlinkSync(file(archive), link);
    expect((await verifyArchive(link, targets)).clean).toBe(false);
  });

  test('a missing file: one line naming it', async () => {
    const path = join(dir, 'nope.tar');
    const err = await failure(verifyArchive(path, targets));
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/does not exist/);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  test('a FIFO is refused at once, not read (nothing writes to it)', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const started = Date.now();
    const err = await failure(verifyArchive(fifo, targets));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.message).toMatch(/not a regular file/);
    expect(err.message).toContain(fifo);
  });

  test('a directory and a character device are refused', async () => {
    expect((await failure(verifyArchive(dir, targets))).message).toMatch(/directory.*not a regular file/);
    expect((await failure(verifyArchive('/dev/zero', targets))).message).toMatch(/device.*not a regular file/);
  });

  test.each([
    ['an empty file', '', /is empty/],
    ['random bytes', Buffer.from('this is not a tar archive at all'.repeat(40)), /not a tar archive/],
    ['a corrupt gzip stream', Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0]), Buffer.alloc(600, 7)]), /gzip/],
  ])('%s: one line, not an image archive', async (_name, data, message) => {
    const path = file(data);
    const err = await failure(verifyArchive(path, targets));
    expect(err.message).toMatch(message);
    expect(err.message).toContain(path);
    expect(err.message.split('\n')).toHaveLength(1);
  });

  test('a tar that is not an image archive (no manifest.json or index.json): one line', async () => {
    const path = file(await tarOf([{ name: 'hello.txt', data: 'hi' }]));
    const err = await failure(verifyArchive(path, targets));
    expect(err.message).toMatch(/not an image archive/);
    expect(err.message).toContain(path);
  });

  test('a tar cut short (a layer missing): refused, never clean', async () => {
    const { archive } = await imageArchive(image('docker', false));
    const err = await failure(verifyArchive(file(archive.subarray(0, 4096)), targets));
    expect(err.message).toMatch(/could not be (read|searched).*it is not verified/);
  });
});

describe('parseVerifyArgs --archive', () => {
  test.each([
    [['--archive', 'img.tar'], 'img.tar'],
    [['--archive=img.tar', '--secret', 'id=a,from=env:A'], 'img.tar'],
  ])('%j', (argv, archive) => {
    expect(parseVerifyArgs(argv)).toMatchObject({ archive, image: undefined });
  });

  test.each([
    [['--archive', 'img.tar', 'app:1'], /--archive .*or an image/],
    [['--archive', 'img.tar', '--context', 'x'], /--archive reads a file.*--context/],
    [['--archive', 'img.tar', '-H', 'tcp://h:1'], /--archive reads a file.*-H/],
    [['--archive', 'img.tar', '--docker', '/bin/docker'], /--archive reads a file.*--docker/],
    [['--archive', 'a.tar', '--archive', 'b.tar'], /--archive/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseVerifyArgs(argv)).toThrow(message);
  });
});

describe('verifyOutput of a filesystem (-o type=local / type=tar): file contents are searched', () => {
  const fsTarget = (kind: 'files', path: string) => ({ kind, path, flag: '--output type=local,dest=x' });

  test('a plain file in a directory holding the value', async () => {
    const root = join(dir, 'local-out');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc', 'plain.conf'), `key=${TOKEN}\n`);
    writeFileSync(join(root, 'clean.txt'), 'nothing\n');
    const r = await verifyOutput(fsTarget('files', root), targets);
    expect(r.hits.map((h) => h.where)).toEqual([expect.stringContaining('etc/plain.conf')]);
  });

  test('a filesystem tar holding the value, named by its entry', async () => {
    const path = file(await tarOf([{ name: 'srv/', type: 'directory' }, { name: 'srv/app.env', data: `TOKEN=${TOKEN}\n` }]));
    const r = await verifyOutput({ kind: 'files', path, flag: '--output type=tar,dest=x' }, targets);
    expect(r.hits.map((h) => h.path)).toEqual(['/srv/app.env']);
  });
});
