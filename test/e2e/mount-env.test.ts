/**
 * Advice that works on the engine in use, against the real daemon (docker
 * 20.10, BuildKit 0.8): its builtin Dockerfile frontend refuses
 * `RUN --mount=type=secret,…,env=X`, so secbuild stops such a build with its
 * own line before docker runs, and the form `secbuild check` suggests instead
 * (`X="$(cat /run/secrets/x)"`) delivers the secret: its sha256, written into
 * the image by that RUN, equals the secret's.
 */
import { createHash } from 'node:crypto';
import { afterAll, expect, test } from 'vitest';
import { context, listDir, nonce, runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describeE2E('env= on a secret mount and the form that replaces it', () => {
  const box = sandbox();
  const id = nonce();
  const tag = `secbuild-frontend-mount-env:${id}`;
  const value = `ghp_${id}Frontend value with spaces`;
  const env = baseEnv(box, { E2E_GH_TOKEN: value });
  const secret = ['--secret', 'id=GITHUB_TOKEN,from=env:E2E_GH_TOKEN'];
  const dirs: Array<{ cleanup: () => void }> = [];
  const ctx = (...lines: string[]) => {
    const c = context([...lines, ''].join('\n'));
    dirs.push(c);
    return c.dir;
  };
  afterAll(async () => {
    await docker(['rmi', '-f', tag]);
    dirs.forEach((d) => d.cleanup());
    box.cleanup();
  });

  test('the premise: this daemon\'s own frontend refuses env= (docker alone)', async () => {
    const dir = ctx('FROM $BASE', 'RUN --mount=type=secret,id=GITHUB_TOKEN,env=GITHUB_TOKEN true');
    const r = await docker(['build', '--no-cache', '-t', tag, dir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.toString()).toContain("unexpected key 'env'");
  });

  test('secbuild stops the env= build with its one line, before docker builds', async () => {
    const dir = ctx('FROM $BASE', 'RUN --mount=type=secret,id=GITHUB_TOKEN,env=GITHUB_TOKEN true');
    const r = await runCli([...secret, '--progress=plain', '-t', tag, dir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^secbuild: \S*Dockerfile:2: RUN --mount … env=GITHUB_TOKEN needs the Dockerfile frontend 1\.10 or later; without a "# syntax=" line docker engine 20\.10\.\S+'s own frontend parses it, .* Add "# syntax=docker\/dockerfile:1\.10" as the first line .*, or drop env=GITHUB_TOKEN and read the file: GITHUB_TOKEN="\$\(cat \/run\/secrets\/GITHUB_TOKEN\)"\.$/m);
    expect(r.stderr.trim().split('\n')).toHaveLength(1); // no docker output: docker never parsed it
    expect(r.stderr).not.toMatch(/unexpected key 'env' in|failed to solve|parse error/);
    expect(listDir(box.tmp)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(value);
  });

  test('the form check suggests delivers the secret byte-exact (hash in the image)', async () => {
    const advice = await runCli(['check', '--format', 'json', ctx('FROM $BASE', 'ARG GITHUB_TOKEN')], { env });
    const fix = (JSON.parse(advice.stdout) as { findings: { fix: string }[] }).findings[0]!.fix;
    const run = /(RUN --mount=\S+ GITHUB_TOKEN="\$\(cat \/run\/secrets\/GITHUB_TOKEN\)") … with secbuild/.exec(fix)?.[1];
    expect(run, fix).toBeDefined();
    const dir = ctx('FROM $BASE', `${run} sh -c 'printf %s "$GITHUB_TOKEN" | sha256sum > /sha'`);
    const r = await runCli([...secret, '--progress=plain', '--no-cache', '-t', tag, dir], { env });
    expect(r.stderr).not.toMatch(/^secbuild: .*error/im);
    expect(r.code).toBe(0);
    const inImage = (await docker(['run', '--rm', tag, 'cat', '/sha'])).stdout.toString().split(/\s+/)[0];
    expect(inImage).toBe(sha(value));
    expect(listDir(box.tmp)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(value);
  });
});
