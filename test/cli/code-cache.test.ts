/**
 * The entry's code cache, through the built CLI (src/cli/loader.ts): the
 * first run of a kind of command writes it (0600 in a 0700 directory), the
 * next uses it, a damaged one is refused by V8 and written anew without the
 * run noticing, and SECBUILD_NO_CACHE=1 writes nothing. SECBUILD_DEBUG=1
 * says which happened.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ENTRY_WRAPPER } from '../../src/cli/loader.js';
import { runCli, sandbox } from '../helpers/cli.js';

describe('code cache', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  const codeDir = (cache: string) => join(cache, 'secbuild', 'code');
  const version = (cache: string, extra: NodeJS.ProcessEnv = {}) => runCli(['--version'], { env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, SECBUILD_DEBUG: '1', ...extra } });

  test('written by the first run, used by the next, refused when damaged and written anew', async () => {
    const cache = join(box.dir, 'c1');
    const first = await version(cache);
    expect(first.stdout).toBe(`${pkg.version}\n`);
    expect(first.stderr).toMatch(/code cache none, written at exit: /);
    const [file] = readdirSync(codeDir(cache));
    expect(file).toMatch(new RegExp(`^[0-9a-f]{32}_2-${process.version.replace(/\./g, '\\.')}-${process.arch}-version\\.bin$`));
    const path = join(codeDir(cache), file!);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(codeDir(cache)).mode & 0o777).toBe(0o700);
    expect(statSync(path).size).toBeGreaterThan(10_000);

    const second = await version(cache);
    expect(second.stdout).toBe(`${pkg.version}\n`);
    expect(second.stderr).toMatch(/code cache used: /);

    writeFileSync(path, Buffer.alloc(4096, 0x5a));
    const damaged = await version(cache);
    expect(damaged.code).toBe(0);
    expect(damaged.stdout).toBe(`${pkg.version}\n`);
    expect(damaged.stderr).toMatch(/code cache refused by V8, written anew at exit: /);
    expect((await version(cache)).stderr).toMatch(/code cache used: /);
  });

  test('a subcommand has a cache of its own beside the build one', async () => {
    const cache = join(box.dir, 'c2');
    await version(cache);
    const r = await runCli(['secrets', '--secret', 'id=a,from=env:A'], { env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, A: 'value-of-a' } });
    expect(r.code, r.stderr).toBe(0);
    // The entry's and the commander part's (dist/cli.cjs), each keyed by its own build id.
    const files = readdirSync(codeDir(cache));
    expect(files.map((f) => f.replace(/^.*-/, '')).sort()).toEqual(['secrets.bin', 'secrets.bin', 'version.bin']);
    expect(new Set(files.map((f) => f.split('_')[0])).size).toBe(2);
  });

  test('a part a command imports runs with a code cache of its own, used by the next run', async () => {
    const cache = join(box.dir, 'c4');
    const secrets = () => runCli(['secrets', '--secret', 'id=a,from=env:A'], { env: { PATH: process.env.PATH, XDG_CACHE_HOME: cache, A: 'value-of-a', SECBUILD_DEBUG: '1' } });
    const first = await secrets();
    expect(first.stderr.match(/code cache none, written at exit/g)).toHaveLength(2);
    const second = await secrets();
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr.match(/code cache used: /g)).toHaveLength(2);
    expect(second.stderr).not.toMatch(/code cache (none|refused)/);
  });

  test('SECBUILD_NO_CACHE=1: nothing is read or written', async () => {
    const cache = join(box.dir, 'c3');
    const r = await version(cache, { SECBUILD_NO_CACHE: '1' });
    expect(r.stdout).toBe(`${pkg.version}\n`);
    expect(r.stderr).toMatch(/code cache off/);
    expect(() => readdirSync(codeDir(cache))).toThrow(/ENOENT/);
  });
});

describe('the entry as built', () => {
  // One character outside Latin-1 made V8 hold the whole entry as a two-byte string, and wrapping it at each
  // run copied it again: 1.5 ms of every run (scripts/build.mjs, src/cli/loader.ts ENTRY_WRAPPER).
  test.each(['secbuild.cjs', 'cli.cjs', 'compose.cjs', 'run.cjs', 'exec.cjs', 'verify.cjs'])('dist/%s is ASCII and carries the wrapper the loader runs it in', (name) => {
    const text = readFileSync(join(__dirname, '..', '..', 'dist', name), 'latin1');
    expect(text.match(/[^\x00-\x7f]/g) ?? []).toEqual([]);
    expect(text.split('\n')[0]).toMatch(/^\/\/ secbuild-build [0-9a-f]{32}$/);
    expect(text.split('\n')[1]).toMatch(/^\(function \(exports, require, module, __filename, __dirname, __import\) \{/);
    // scripts/build.mjs writes its own copy of the text the loader looks for: the two must not drift apart.
    expect(text.split('\n')[1]!.startsWith(ENTRY_WRAPPER)).toBe(true);
    expect(text.endsWith('\n})')).toBe(true);
  });
});
