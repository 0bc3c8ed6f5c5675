/**
 * The trusted-state reader (src/run/trusted.ts), through every reader of
 * secbuild's own directories: the code cache (src/cli/loader.ts), the engine
 * and podman detection caches and the preflight cache (src/run/cache.ts),
 * and the cache-key file (src/secrets/cache-key.ts). Each file is read when
 * it is the user's own; each refuses a symlinked ancestor (the root itself a
 * symlink), a group-writable file, a file owned by another user (uid 65534:
 * these tests run as root, and root must not trust a user's file), a FIFO
 * (without blocking) and an oversized file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { skipUnlessCI } from '../helpers/ci.js';
import { cachePath, MAX_CACHE_BYTES, readTrusted, writeTrusted } from '../../src/cli/loader.js';
import { configDir, fileKey } from '../../src/secrets/cache-key.js';
import { cacheDir, MAX_JSON_BYTES, readCache, writeCache } from '../../src/run/cache.js';

const isRoot = !skipUnlessCI(process.geteuid?.() !== 0 && 'they chown to uid 65534, which needs root', 'trusted: the other-owner cases');
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function home(): string {
  const d = mkdtempSync(join(tmpdir(), 'secbuild-trusted-'));
  dirs.push(d);
  return d;
}
const KEY = 'ab'.repeat(32);
const json = (bytes = 2) => `{"k":"${'x'.repeat(Math.max(0, bytes - 8))}"}`;

interface Reader {
  what: string;
  /** The root (`…/secbuild`) under the environment's base directory, and the file under it. */
  root: (env: NodeJS.ProcessEnv) => string;
  rel: string;
  good: () => string;
  /** A file one byte over the reader's bound that would otherwise be read. */
  oversized: () => string;
  read: (env: NodeJS.ProcessEnv) => boolean;
}

const ID = '0123456789abcdef0123456789abcdef';
const cacheReader = (rel: string): Reader => ({
  what: rel,
  root: cacheDir,
  rel,
  good: () => json(),
  oversized: () => json(MAX_JSON_BYTES + 1),
  read: (env) => readCache(env, rel) !== undefined,
});

/** Every file secbuild reads back from its own directories. */
const READERS: Reader[] = [
  {
    what: 'code cache',
    root: cacheDir,
    rel: `code/${ID}_1-v-x-build.bin`,
    good: () => 'bytes',
    oversized: () => 'x'.repeat(MAX_CACHE_BYTES + 1),
    read: (env) => readTrusted(join(cacheDir(env), `code/${ID}_1-v-x-build.bin`)) !== undefined,
  },
  cacheReader('engine.json'),
  cacheReader('podman.json'),
  cacheReader('preflight/0123456789abcdef.json'),
  {
    what: 'cache-key file',
    root: (env) => join(env.XDG_CONFIG_HOME!, 'secbuild'),
    rel: 'cache-key',
    good: () => `${KEY}\n`,
    oversized: () => `${KEY}\n${' '.repeat(300)}`,
    read: (env) => {
      try {
        return fileKey(env).toString('hex') === KEY;
      } catch {
        return false;
      }
    },
  },
];

/** An environment whose cache and config roots hold `r`'s file with `content` (0600, in 0700 directories). */
function planted(r: Reader, content: string): { env: NodeJS.ProcessEnv; file: string } {
  const base = home();
  const env = { XDG_CACHE_HOME: join(base, 'cache'), XDG_CONFIG_HOME: join(base, 'config') };
  const file = join(r.root(env), r.rel);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, content, { mode: 0o600 });
  return { env, file };
}

describe.each(READERS)('$what', (r) => {
  test('is read when it and its directories are the user\'s own', () => {
    expect(r.read(planted(r, r.good()).env)).toBe(true);
  });

  test('is not read through a symlinked ancestor (the root a symlink to a directory of the same owner)', () => {
    const { env } = planted(r, r.good());
    const root = r.root(env);
    const real = `${root}-real`;
    renameSync(root, real);
    symlinkSync(real, root);
    expect(r.read(env)).toBe(false);
  });

  test('is not read when group-writable', () => {
    const { env, file } = planted(r, r.good());
    chmodSync(file, 0o620);
    expect(r.read(env)).toBe(false);
  });

  test.skipIf(!isRoot)('is not read when owned by another user (root does not trust uid 65534\'s file)', () => {
    const { env, file } = planted(r, r.good());
    chownSync(file, 65534, 65534);
    expect(r.read(env)).toBe(false);
  });

  test.skipIf(!isRoot)('is not read when its root directory belongs to another user (sudo -E with a user\'s HOME)', () => {
    const { env } = planted(r, r.good());
    chownSync(r.root(env), 65534, 65534);
    expect(r.read(env)).toBe(false);
  });

  test('a FIFO in its place is refused without blocking', () => {
    const { env, file } = planted(r, r.good());
    rmSync(file);
    expect(spawnSync('mkfifo', ['-m', '600', file]).status).toBe(0);
    // Should the reader block in open(2), a writer opening the FIFO 3 s later releases it: the test then fails on time, not by hanging.
    const release = spawn('/bin/sh', ['-c', `sleep 3; : > '${file}'`], { stdio: 'ignore' });
    const t0 = Date.now();
    try {
      expect(r.read(env)).toBe(false);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      release.kill('SIGKILL');
    }
  });

  test('is not read when over its bound', () => {
    expect(r.read(planted(r, r.oversized()).env)).toBe(false);
  });
});

describe('the code cache writer', () => {
  test('writes and prunes nothing through a symlinked root', () => {
    const base = home();
    const env = { XDG_CACHE_HOME: base };
    const elsewhere = join(base, 'elsewhere');
    mkdirSync(join(elsewhere, 'code'), { recursive: true, mode: 0o700 });
    for (let i = 0; i < 40; i++) writeFileSync(join(elsewhere, 'code', `${String(i).padStart(32, '0')}_1-v-x-build.bin`), 'x', { mode: 0o600 });
    symlinkSync(elsewhere, cacheDir(env));
    writeTrusted(join(cacheDir(env), 'code', `${ID}_1-v-x-build.bin`), Buffer.from('code'));
    expect(readdirSync(join(elsewhere, 'code')).length).toBe(40);
    expect(existsSync(join(elsewhere, 'code', `${ID}_1-v-x-build.bin`))).toBe(false);
  });
});

describe('the JSON cache writer', () => {
  test.skipIf(!isRoot)('root creates no cache directory inside another user\'s directory (sudo -E with a user\'s HOME)', () => {
    const userHome = home();
    chownSync(userHome, 65534, 65534);
    writeCache({ HOME: userHome }, 'engine.json', { k: 1 });
    expect(readdirSync(userHome)).toEqual([]);
  });

  test('writes a 0600 file in 0700 directories that reads back', () => {
    const env = { XDG_CACHE_HOME: join(home(), 'cache') };
    writeCache(env, 'preflight/x.json', { k: 1 });
    expect(readCache(env, 'preflight/x.json')).toEqual({ k: 1 });
    expect(statSync(join(cacheDir(env), 'preflight', 'x.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(cacheDir(env), 'preflight')).mode & 0o777).toBe(0o700);
  });
});

describe('the state roots', () => {
  // XDG base directory spec: a relative XDG_* is invalid and ignored. A relative root would be
  // the working directory's (a cloned repository's `.cache/secbuild/code/…` read as code).
  test.each([
    ['HOME empty', { HOME: '' }],
    ['HOME relative', { HOME: '.' }],
    ['XDG_CACHE_HOME and XDG_CONFIG_HOME relative', { HOME: '', XDG_CACHE_HOME: '.cache', XDG_CONFIG_HOME: 'conf' }],
  ])('are absolute whatever the environment says (%s)', (_, env) => {
    expect(isAbsolute(cacheDir(env))).toBe(true);
    expect(isAbsolute(configDir(env))).toBe(true);
    expect(isAbsolute(cachePath(env, ID, 'build')!)).toBe(true);
  });
});
