/**
 * Leak guards at build time, end to end: docker's output is masked when it
 * goes to a pipe (as in CI), the build-arg guard refuses a secret from each
 * provider kind, GitHub Actions mode registers masks first and groups
 * secbuild's lines, and --report holds ids, lengths and counts, never values.
 * No secret byte may appear in anything captured here.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { baseEnv, CLI, context, e2e, listDir, nonce, runCli, sandbox, sh } from './helpers.js';

const TOKEN = `tok-${nonce()}-Zq9`;
const LINES = [`first-${nonce()}`, `second-${nonce()}`, `third-${nonce()}`];

function expectNoSecret(text: string, values: readonly string[]): void {
  for (const v of values) {
    expect(text.includes(v), `output contains secret ${v.slice(0, 6)}…`).toBe(false);
    expect(text.includes(Buffer.from(v).toString('base64').replace(/=+$/, ''))).toBe(false);
  }
}

describe.skipIf(e2e.skip)('masking and leak guards', () => {
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
  const ctxS = context('FROM $BASE\nRUN --mount=type=secret,id=s true\n');
  afterAll(() => {
    ctxS.cleanup();
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

  test.each([
    ['env', `id=s,from=env:E2E_TOKEN`],
    ['file', `id=s,from=file:${join(box.dir, 'tokfile')}`],
    ['cmd', `id=s,from=cmd:cat ${join(box.dir, 'tokfile')}`],
    ['docker src=', `id=s,src=${join(box.dir, 'tokfile')}`],
  ])('a --build-arg carrying a secret from %s is refused with exit 4', async (_kind, spec) => {
    writeFileSync(join(box.dir, 'tokfile'), TOKEN);
    const r = await runCli(['--secret', spec, '--build-arg', `NPM_AUTH=Bearer ${TOKEN}`, ctxS.dir], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/--build-arg NPM_AUTH carries secret "s" .*Mount it instead: --secret id=s,.*RUN --mount=type=secret,id=s.*--allow-secret-build-arg NPM_AUTH/);
    expectNoSecret(r.stdout + r.stderr, [TOKEN]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a bare --build-arg NAME reading a secret\'s variable is refused; --allow-secret-build-arg lets it through loudly', async () => {
    const refused = await runCli([...secretArgs, '--dry-run', '--build-arg', 'E2E_TOKEN', ctx.dir], { env });
    expect(refused.code).toBe(4);
    const allowed = await runCli([...secretArgs, '--dry-run', '--build-arg', 'E2E_TOKEN', '--allow-secret-build-arg', 'E2E_TOKEN', ctx.dir], { env });
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/warning: --build-arg E2E_TOKEN carries secret "tok" and is let through/);
    expectNoSecret(refused.stdout + refused.stderr + allowed.stdout + allowed.stderr, [TOKEN]);
  });

  test('credential-like build-arg names warn, and provenance mode=max warns for them', async () => {
    const r = await runCli([...secretArgs, '--dry-run', '--build-arg', 'GITHUB_TOKEN=unknown-to-secbuild', '--provenance', 'mode=max', ctx.dir], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --build-arg GITHUB_TOKEN looks like a credential/);
    expect(r.stderr).toMatch(/provenance mode=max records build-arg values in the attestation, including --build-arg GITHUB_TOKEN/);
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
    const out = r.stdout.split('\n');
    expect(out[0]).toBe('::group::secbuild');
    const masks = out.filter((l) => l.startsWith('::add-mask::')).map((l) => l.slice('::add-mask::'.length));
    // The runner hides these lines; they are the one place values are written, by design.
    expect(masks).toEqual(expect.arrayContaining([TOKEN, Buffer.from(TOKEN).toString('base64'), ...LINES]));
    const lastMask = out.map((l) => l.startsWith('::add-mask::')).lastIndexOf(true);
    const endGroup = out.indexOf('::endgroup::');
    expect(endGroup).toBeGreaterThan(lastMask);
    // Everything docker printed (stderr with --progress=plain) is masked.
    expectNoSecret(r.stderr, [TOKEN, ...LINES]);
    expect(r.stderr).toContain('***');
  });
});
