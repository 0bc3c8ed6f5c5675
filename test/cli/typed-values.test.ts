/**
 * A credential typed where a reference belongs (trust round 3, item 3) is
 * never echoed by the built CLI: not on stdout or stderr of `--dry-run`,
 * `secbuild secrets` or a build, nor in a `--report`. Docker is the stand-in
 * (argv and files only).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { nonce, runCli } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

const GHP = `ghp_${'a1B2c3D4e5'.repeat(3)}x9Y8z7`;
const BARE = 'Tok3nValueQ';

describe('typed credentials are not echoed (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=x true\n');

  const cases: Array<[string, string[]]> = [
    ['--npmrc token=ghp_…', ['--npmrc', `registry=https://npm.example.com/,token=${GHP}`]],
    ['--npmrc token=BARE', ['--npmrc', `registry=https://npm.example.com/,token=${BARE}`]],
    ['--netrc password=ghp_…', ['--netrc', `machine=github.com,login=x,password=${GHP}`]],
    ['--secret from=ghp_…', ['--secret', `id=x,from=${GHP}`]],
    ['--secret from=BARE', ['--secret', `id=x,from=${BARE}`]],
    ['--secret from=env:TOKEN-WITH-DASH', ['--secret', `id=x,from=env:${GHP}-x`]],
    ['--secret from=env:ghp_… (a valid name)', ['--secret', `id=x,from=env:${GHP}`]],
    ['--secret env=ghp_…', ['--secret', `id=x,env=${GHP}`]],
    ['--secret src=ghp_…', ['--secret', `id=x,src=${GHP}`]],
    ['--secret cache=ghp_…', ['--secret', `id=x,from=env:A,cache=${GHP}`]],
    ['--secret cache=scope:ghp_…! (not a scope name)', ['--secret', `id=x,from=env:A,cache=scope:${GHP}!`]],
  ];
  const modes: Array<[string, (flags: string[], report: string) => string[]]> = [
    ['--dry-run', (flags, report) => ['--dry-run', ...flags, '--report', report, ctx.dir]],
    ['a build', (flags, report) => [...flags, '--report', report, ctx.dir]],
    ['secbuild secrets', (flags) => ['secrets', ...flags]],
  ];
  test.each(cases.flatMap(([name, flags]) => modes.map(([mode, argv]) => [`${name} with ${mode}`, flags, argv] as const)))('%s', async (_name, flags, argv) => {
    const { env } = fake.record({ A: 'unused' });
    const report = join(box.dir, `report-${nonce()}.json`);
    const r = await runCli(argv(flags, report), { env });
    expect(r.code).not.toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toMatch(/\S/);
    expect(out).not.toContain(GHP);
    expect(out).not.toContain(BARE);
    let text = '';
    try {
      text = readFileSync(report, 'utf8');
    } catch {
      // secbuild secrets writes no report; a usage error before the run may not either.
    }
    expect(text).not.toContain(GHP);
    expect(text).not.toContain(BARE);
  });

  test('a legitimate reference is still printed as typed: env:NPM_TOKEN in secrets, --dry-run and the report', async () => {
    const { env } = fake.record({ NPM_TOKEN: `tok-${nonce()}` });
    const report = join(box.dir, `report-${nonce()}.json`);
    const s = await runCli(['secrets', '--secret', 'id=x,from=env:NPM_TOKEN'], { env });
    expect(s.stdout).toMatch(/^x\s+env:NPM_TOKEN\s+ok/m);
    const d = await runCli(['--dry-run', '--secret', 'id=x,from=env:NPM_TOKEN', '--report', report, ctx.dir], { env });
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain('from env:NPM_TOKEN');
    expect(JSON.parse(readFileSync(report, 'utf8')).secrets[0].source).toBe('env:NPM_TOKEN');
  });
});
