/**
 * The entry's code cache (src/cli/loader.ts): which file a run uses, and that
 * a cache file is read only when it and its directory are the user's own and
 * writable by no one else, never through a symlink, and written as a new
 * 0600 file in a 0700 directory that keeps the newest caches.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { buildId, cachePath, kindOf, MAX_CACHE_BYTES, MAX_CACHE_FILES, readTrusted, runEntry, writeTrusted } from '../../src/cli/loader.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function home(): string {
  const d = mkdtempSync(join(tmpdir(), 'secbuild-loader-'));
  dirs.push(d);
  return d;
}
const ID = '0123456789abcdef0123456789abcdef';

describe('which cache', () => {
  test('the build id is the bundle first line', () => {
    expect(buildId(`// secbuild-build ${ID}\n"use strict";`)).toBe(ID);
    expect(buildId('"use strict";\n')).toBeUndefined();
  });

  test('a build, --version and each subcommand have a file of their own; an unknown first word is a build', () => {
    expect(['--version', '-V', 'verify', 'compose', 'doctor', '-t', '.', 'app', undefined].map((a) => kindOf(a === undefined ? [] : [a]))).toEqual([
      'version', 'version', 'verify', 'compose', 'doctor', 'build', 'build', 'build', 'build',
    ]);
  });

  test('the path names the build, the node version and the kind; none without a build id or with SECBUILD_NO_CACHE=1', () => {
    const env = { XDG_CACHE_HOME: '/c' };
    expect(cachePath(env, ID, 'build')).toBe(`/c/secbuild/code/${ID}_2-${process.version}-${process.arch}-build.bin`);
    expect(cachePath(env, undefined, 'build')).toBeUndefined();
    expect(cachePath({ ...env, SECBUILD_NO_CACHE: '1' }, ID, 'build')).toBeUndefined();
  });
});

describe('reading', () => {
  function cached(): { dir: string; file: string } {
    const dir = join(home(), 'code');
    mkdirSync(dir, { mode: 0o700 });
    const file = join(dir, `${ID}_1-v-x-build.bin`);
    writeFileSync(file, 'bytes', { mode: 0o600 });
    return { dir, file };
  }

  test('an own 0600 file in an own 0700 directory is read', () => {
    const { file } = cached();
    expect(readTrusted(file)?.toString()).toBe('bytes');
  });

  test('a file or a directory that others may write is not read', () => {
    const a = cached();
    chmodSync(a.file, 0o620);
    expect(readTrusted(a.file)).toBeUndefined();
    const b = cached();
    chmodSync(b.dir, 0o777);
    expect(readTrusted(b.file)).toBeUndefined();
  });

  test('a symlinked file or directory is not followed', () => {
    const { dir, file } = cached();
    const link = join(dir, 'link.bin');
    symlinkSync(file, link);
    expect(readTrusted(link)).toBeUndefined();
    const linkedDir = join(home(), 'code-link');
    symlinkSync(dir, linkedDir);
    expect(readTrusted(join(linkedDir, `${ID}_1-v-x-build.bin`))).toBeUndefined();
  });

  test('an empty file, one over the bound, a FIFO and a missing file are not read', () => {
    const { dir, file } = cached();
    const fifo = join(dir, 'fifo.bin');
    expect(spawnSync('mkfifo', ['-m', '600', fifo]).status).toBe(0);
    expect(readTrusted(fifo)).toBeUndefined();
    writeFileSync(file, '');
    expect(readTrusted(file)).toBeUndefined();
    writeFileSync(file, Buffer.alloc(MAX_CACHE_BYTES + 1));
    expect(readTrusted(file)).toBeUndefined();
    expect(readTrusted(join(dir, 'missing.bin'))).toBeUndefined();
  });
});

describe('writing', () => {
  test('a new 0600 file in a new 0700 directory; a killed writer\'s old temporary file goes', () => {
    const dir = join(home(), 'secbuild', 'code');
    const mine = join(dir, `${ID}_1-v20.0.0-x64-build.bin`);
    writeTrusted(join(dir, `${ID}_1-v20.0.0-x64-version.bin`), Buffer.from('v'));
    const other = join(dir, `ffffffffffffffffffffffffffffffff_1-v20.0.0-x64-build.bin`); // another install's
    writeFileSync(other, 'theirs', { mode: 0o600 });
    const tmp = join(dir, `${ID}_1-v20.0.0-x64-build.bin.999.tmp`);
    writeFileSync(tmp, 'left by a killed writer', { mode: 0o600 });
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(tmp, old, old);
    writeTrusted(mine, Buffer.from('code'));
    expect(readFileSync(mine, 'utf8')).toBe('code');
    expect(statSync(mine).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(dir).sort()).toEqual([`${ID}_1-v20.0.0-x64-build.bin`, `${ID}_1-v20.0.0-x64-version.bin`, `ffffffffffffffffffffffffffffffff_1-v20.0.0-x64-build.bin`]);
  });

  test(`only the ${MAX_CACHE_FILES} newest caches stay`, () => {
    const dir = join(home(), 'code');
    mkdirSync(dir, { mode: 0o700 });
    const now = Date.now() / 1000;
    for (let i = 0; i < MAX_CACHE_FILES + 5; i++) {
      const f = join(dir, `${String(i).padStart(32, '0')}_1-v-x-build.bin`);
      writeFileSync(f, 'x', { mode: 0o600 });
      utimesSync(f, now - 1000 + i, now - 1000 + i); // file i is newer than file i - 1
    }
    const mine = join(dir, `${ID}_1-v-x-build.bin`);
    writeTrusted(mine, Buffer.from('code'));
    const left = readdirSync(dir);
    expect(left.length).toBe(MAX_CACHE_FILES);
    expect(left).toContain(`${ID}_1-v-x-build.bin`);
    // The six oldest went (five over the bound, and one for the new file).
    for (let i = 0; i < 6; i++) expect(left).not.toContain(`${String(i).padStart(32, '0')}_1-v-x-build.bin`);
  });

  test('a cache file that is a symlink is replaced, not written through', () => {
    const dir = join(home(), 'code');
    mkdirSync(dir, { mode: 0o700 });
    const target = join(home(), 'elsewhere');
    writeFileSync(target, 'keep');
    const file = join(dir, `${ID}_1-v-x-build.bin`);
    symlinkSync(target, file);
    writeTrusted(file, Buffer.from('code'));
    expect(readFileSync(target, 'utf8')).toBe('keep');
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
  });

  test('nothing is written into a directory others may write, and a failing write leaves no file', () => {
    const dir = join(home(), 'code');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    const file = join(dir, `${ID}_1-v-x-build.bin`);
    writeTrusted(file, Buffer.from('code'));
    expect(existsSync(file)).toBe(false);
    const blocked = join(home(), 'file-not-dir');
    writeFileSync(blocked, '');
    writeTrusted(join(blocked, 'code', 'x.bin'), Buffer.from('code'));
    expect(readdirSync(join(blocked, '..')).filter((n) => n.includes('.tmp'))).toEqual([]);
  });
});

describe('parts', () => {
  /** An entry and two parts that import each other from their top level, run by runEntry without a cache. */
  test('a part that a part imports back is run once, as import() would run it', async () => {
    const dir = home();
    writeFileSync(join(dir, 'entry.cjs'), "globalThis.__parts = []; globalThis.__done = __import('./a.cjs');\n");
    writeFileSync(join(dir, 'a.cjs'), "globalThis.__parts.push('a'); exports.b = __import('./b.cjs'); exports.name = 'a';\n");
    writeFileSync(join(dir, 'b.cjs'), "globalThis.__parts.push('b'); exports.a = __import('./a.cjs'); exports.name = 'b';\n");
    const g = globalThis as { __parts?: string[]; __done?: Promise<{ name: string; b: Promise<{ name: string; a: Promise<unknown> }> }> };
    try {
      runEntry(join(dir, 'entry.cjs'), [], { SECBUILD_NO_CACHE: '1' });
      const a = await g.__done!;
      const b = await a.b;
      expect(g.__parts).toEqual(['a', 'b']);
      expect(await b.a).toBe(a);
    } finally {
      delete g.__parts;
      delete g.__done;
    }
  });
});
