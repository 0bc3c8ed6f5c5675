/**
 * What a --report holds and where it lands (trust round 3, items 12 and 13):
 * the docker argv it records shows the cache policy's MAC redacted (as do
 * --dry-run and SECBUILD_DEBUG's exec lines), and the file is never written
 * or chmod-ed through a symlink. Docker is the stand-in (argv and files only).
 */
import { lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nonce, runCli } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

describe('--report safety (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');

  test("the cache policy's MAC is in docker's argv but not in the report, nor in SECBUILD_DEBUG's lines", async () => {
    const { env, read } = fake.record({ TOK: `tok-${nonce()}`, SECBUILD_CACHE_KEY: 'k'.repeat(40), SECBUILD_DEBUG: '1' });
    const report = join(box.dir, `report-${nonce()}.json`);
    const r = await runCli(['-f', join(ctx.dir, 'Dockerfile'), '--secret', 'id=tok,from=env:TOK,cache=content', '--report', report, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    const argv = read('argv').trimEnd().split('\n');
    const mac = argv[argv.indexOf('--build-arg') + 1]!.split('=')[1]!;
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    const text = readFileSync(report, 'utf8');
    expect(text).not.toContain(mac);
    const json = JSON.parse(text) as { dockerArgv: string[]; runs?: Array<{ argv: string[] }> };
    expect(json.dockerArgv).toContain('SECBUILD_CACHE_IDtok=<cache input>');
    expect(r.stdout + r.stderr).not.toContain(mac);
    expect(r.stderr).toContain('SECBUILD_CACHE_IDtok=<cache input>');
  });

  test('a --report path that is a symlink: the link is replaced by the report, its target is untouched (mode and content)', async () => {
    const { env } = fake.record({ TOK: `tok-${nonce()}` });
    const dir = join(box.dir, `shared-${nonce()}`);
    mkdirSync(dir);
    const target = join(dir, 'victim.txt');
    writeFileSync(target, 'precious\n', { mode: 0o644 });
    const report = join(dir, 'report.json');
    symlinkSync(target, report);
    const r = await runCli(['--secret', 'id=tok,from=env:TOK', '--report', report, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('precious\n');
    expect(statSync(target).mode & 0o777).toBe(0o644);
    expect(lstatSync(report).isSymbolicLink()).toBe(false);
    expect(statSync(report).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(report, 'utf8')).exitCode).toBe(0);
  });

  test('a --report path that is a dangling symlink: nothing is created at its target', async () => {
    const { env } = fake.record({ TOK: `tok-${nonce()}` });
    const dir = join(box.dir, `shared-${nonce()}`);
    mkdirSync(dir);
    const target = join(dir, 'planted');
    const report = join(dir, 'report.json');
    symlinkSync(target, report);
    const r = await runCli(['--secret', 'id=tok,from=env:TOK', '--report', report, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(() => lstatSync(target)).toThrow();
    expect(lstatSync(report).isFile()).toBe(true);
  });

  test('an existing report file keeps no mode secbuild did not give it: it is replaced by a new 0600 file', async () => {
    const { env } = fake.record({ TOK: `tok-${nonce()}` });
    const dir = join(box.dir, `own-${nonce()}`);
    mkdirSync(dir);
    const report = join(dir, 'report.json');
    writeFileSync(report, 'old\n', { mode: 0o644 });
    const before = statSync(report).ino;
    const r = await runCli(['--secret', 'id=tok,from=env:TOK', '--report', report, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(report).mode & 0o777).toBe(0o600);
    expect(statSync(report).ino).not.toBe(before);
  });
});
