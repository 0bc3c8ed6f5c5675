/**
 * src/util/read.ts readBounded: at most `limit + 1` bytes are read from any
 * kind of file — a regular file, a character device that never ends, a FIFO
 * whose writer never stops — and more than `limit` is a TooLarge; open and
 * read errors come through with their code for the caller to word.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { isTooLarge, readBounded, TooLarge } from '../../src/util/read.js';

const dir = mkdtempSync(join(tmpdir(), 'secbuild-unit-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('readBounded', () => {
  test.each<[string, number, number]>([
    ['empty', 0, 10],
    ['shorter than the limit', 5, 10],
    ['exactly the limit', 10, 10],
    ['several chunks, under the limit', 200_000, 300_000],
  ])('a regular file, %s: read whole', async (_name, size, limit) => {
    const content = Buffer.alloc(size, 0x61);
    expect((await readBounded(file(`f${size}`, content), limit)).equals(content)).toBe(true);
  });

  test('a regular file one byte over the limit: TooLarge with its size', async () => {
    const path = file('over', Buffer.alloc(11));
    const err = await readBounded(path, 10).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooLarge);
    expect(isTooLarge(err)).toBe(true);
    expect(err).toMatchObject({ path, limit: 10, size: 11 });
  });

  test('/dev/zero (a character device without end): TooLarge after limit + 1 bytes, without a size', async () => {
    const err = await readBounded('/dev/zero', 1024 * 1024).catch((e: unknown) => e);
    expect(isTooLarge(err)).toBe(true);
    expect((err as TooLarge).size).toBeUndefined();
  });

  test('a FIFO whose writer never stops: TooLarge, and the writer is left to its EPIPE', async () => {
    const fifo = join(dir, 'fifo');
    spawnSync('mkfifo', [fifo]);
    const writer = spawn('/bin/sh', ['-c', `exec yes > '${fifo}'`], { stdio: 'ignore' });
    try {
      const err = await readBounded(fifo, 100_000).catch((e: unknown) => e);
      expect(isTooLarge(err)).toBe(true);
    } finally {
      writer.kill();
    }
  });

  test('a FIFO with a short write: read to its end', async () => {
    const fifo = join(dir, 'fifo-short');
    spawnSync('mkfifo', [fifo]);
    const writer = spawn('/bin/sh', ['-c', `printf 'FROM a\\n' > '${fifo}'`], { stdio: 'ignore' });
    expect((await readBounded(fifo, 100)).toString()).toBe('FROM a\n');
    writer.kill();
  });

  test('a FIFO whose writer already waits for a reader: its data is read, not lost to a probing open', async () => {
    const fifo = join(dir, 'fifo-waiting');
    spawnSync('mkfifo', [fifo]);
    const writer = spawn('/bin/sh', ['-c', `printf 'FROM b\\n' > '${fifo}'`], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 200)); // the writer is blocked in open(2) by now
    expect((await readBounded(fifo, 100)).toString()).toBe('FROM b\n');
    writer.kill();
  });

  test.each<[string, () => string, string]>([
    ['missing', () => join(dir, 'no-such-file'), 'ENOENT'],
    ['a directory', () => dir, 'EISDIR'],
  ])('%s: the error comes through with its code (%s)', async (_name, path, code) => {
    const err = await readBounded(path(), 10).catch((e: unknown) => e);
    expect(isTooLarge(err)).toBe(false);
    expect(err).toMatchObject({ code });
  });
});
