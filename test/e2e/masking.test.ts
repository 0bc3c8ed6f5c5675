/**
 * Masking at build time, end to end: docker's output is masked when it goes
 * to a pipe (as in CI) and, with --mask, on a terminal; GitHub Actions mode
 * registers masks first and groups secbuild's lines; --report holds ids,
 * lengths and counts, never values. No secret byte may appear in anything
 * captured here. The build-arg guard, which stops a run before docker, is in
 * test/cli/build-args.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { CLI, context, expectNoSecret, listDir, nonce, runCli, sandbox, sh } from '../helpers/cli.js';
import { baseEnv, describeE2E } from '../helpers/e2e.js';

const TOKEN = `tok-${nonce()}-Zq9`;
const LINES = [`first-${nonce()}`, `second-${nonce()}`, `third-${nonce()}`];

describeE2E('masking', () => {
  const box = sandbox();
  const multi = join(box.dir, 'multi');
  writeFileSync(multi, `${LINES.join('\n')}\n`);
  const env = baseEnv(box, { E2E_TOKEN: TOKEN });
  const ctx = context(
    [
      'FROM $BASE',
      'ARG N',
      'RUN --mount=type=secret,id=tok --mount=type=secret,id=multi echo "$N" && cat /run/secrets/tok && echo && base64 /run/secrets/tok && cat /run/secrets/multi && echo "token=$(cat /run/secrets/tok)!"',
      '',
    ].join('\n'),
  );
  afterAll(() => {
    ctx.cleanup();
    box.cleanup();
  });
  const secretArgs = ['--secret', 'id=tok,from=env:E2E_TOKEN', '--secret', `id=multi,from=file:${multi}`];

  test('a RUN that prints secrets (raw, base64, multi-line) shows *** in a piped log, never the bytes', async () => {
    const report = join(box.dir, 'report.json');
    const r = await runCli([...secretArgs, '--progress=plain', '--no-cache', '--build-arg', `N=${nonce()}`, '--report', report, ctx.dir], { env });
    const all = r.stdout + r.stderr;
    expect(r.code).toBe(0);
    expectNoSecret(all, [TOKEN, ...LINES]);
    expect(all).toMatch(/#\d+ [\d.]+ \*\*\*\n/); // cat tok
    expect(all).toMatch(/token=\*\*\*!/);
    expect(all.match(/\*\*\*/g)!.length).toBeGreaterThanOrEqual(5);
    expect(listDir(box.tmp)).toEqual([]);

    const json = readFileSync(report, 'utf8');
    expectNoSecret(json, [TOKEN, ...LINES]);
    const rep = JSON.parse(json);
    expect(rep.exitCode).toBe(0);
    expect(rep.engine.buildkit).toBe('legacy-env');
    expect(rep.dockerArgv.join(' ')).toMatch(/--secret id=tok,src=\S+\/00-tok/);
    expect(rep.secrets.map((s: { id: string; bytes: number }) => [s.id, s.bytes])).toEqual([['tok', TOKEN.length], ['multi', LINES.join('\n').length + 1]]);
    expect(rep.masking.enabled).toBe(true);
    expect(rep.masking.occurrences.tok).toBeGreaterThanOrEqual(3);
    expect(rep.masking.occurrences.multi).toBeGreaterThanOrEqual(3);
    expect(rep.timings.map((t: { phase: string }) => t.phase)).toEqual(expect.arrayContaining(['start', 'preflight', 'resolve', 'files', 'docker']));
  });

  test('on a terminal, --mask masks too and docker gets --progress=plain', async () => {
    // util-linux script(1) gives secbuild a pseudo-terminal for stdout and stderr.
    const report = join(box.dir, 'tty-report.json');
    const cmd = [process.execPath, CLI, ...secretArgs, '--mask', '--no-cache', '--build-arg', `N=${nonce()}`, '--report', report, ctx.dir]
      .map((a) => `'${a.replaceAll("'", `'\\''`)}'`)
      .join(' ');
    const r = await sh('script', ['-qec', cmd, '/dev/null'], { env });
    const out = r.stdout.toString();
    expect(r.code).toBe(0);
    expectNoSecret(out, [TOKEN, ...LINES]);
    expect(out).toContain('***');
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.dockerArgv).toContain('--progress=plain');
    expect(rep.masking.enabled).toBe(true);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('GitHub Actions: masks are registered before docker prints, secbuild lines are grouped', async () => {
    const r = await runCli([...secretArgs, '--progress=plain', '--no-cache', '--build-arg', `N=${nonce()}`, ctx.dir], { env: { ...env, GITHUB_ACTIONS: 'true' } });
    expect(r.code).toBe(0);
    // On stderr, which the runner reads for workflow commands too; stdout may be data (test/cli/github-stdout.test.ts).
    const out = r.stderr.split('\n');
    expect(out[0]).toBe('::group::secbuild');
    const masks = out.filter((l) => l.startsWith('::add-mask::')).map((l) => l.slice('::add-mask::'.length));
    // The runner hides these lines; they are the one place values are written, by design.
    expect(masks).toEqual(expect.arrayContaining([TOKEN, Buffer.from(TOKEN).toString('base64'), ...LINES]));
    const lastMask = out.map((l) => l.startsWith('::add-mask::')).lastIndexOf(true);
    const endGroup = out.indexOf('::endgroup::');
    expect(endGroup).toBeGreaterThan(lastMask);
    // Everything docker printed (stderr with --progress=plain) is masked.
    expectNoSecret(out.filter((l) => !l.startsWith('::add-mask::')).join('\n'), [TOKEN, ...LINES]);
    expect(r.stdout).not.toContain('::');
    expect(r.stderr).toContain('***');
  });
});
