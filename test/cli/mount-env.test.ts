/**
 * `RUN --mount=type=secret,…,env=X` needs the Dockerfile frontend 1.10 or
 * later. `secbuild check` and a `--dry-run` build say so in one line and exit
 * 2 before docker builds, instead of docker's "unexpected key 'env'" parse
 * error. The docker here is the stand-in (argv and files only): it answers
 * the server-version probe with FAKE_SERVER_VERSION, or fails as a missing
 * daemon does; no build ever starts.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { context, noDockerEnv, nonce, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

const VALUE = `mount-env-${nonce()}-value`;
const ONE_LINE = /^secbuild: \S*Dockerfile:2: RUN --mount … env=TOKEN needs the Dockerfile frontend 1\.10 or later; .* Add "# syntax=docker\/dockerfile:1\.10" as the first line .*, or drop env=TOKEN and read the file: TOKEN="\$\(cat \/run\/secrets\/tok\)"\.$/;

describe('env= on a secret mount (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const plain = context(['FROM $BASE', 'RUN --mount=type=secret,id=tok,env=TOKEN sh -c \'test -n "$TOKEN"\'', ''].join('\n'));
  const pinned = context(['# syntax=docker/dockerfile:1.10', 'FROM $BASE', 'RUN --mount=type=secret,id=tok,env=TOKEN sh -c \'test -n "$TOKEN"\'', ''].join('\n'));
  const tok = ['--secret', 'id=tok,from=env:E2E_TOKEN'];
  afterAll(() => {
    plain.cleanup();
    pinned.cleanup();
    box.cleanup();
  });

  /** secbuild's own lines on stderr (docker's would not start with "secbuild:"). */
  const errorLines = (stderr: string) => stderr.split('\n').filter((l) => /error|env=/.test(l));

  test('check without a daemon: exit 2 and the one line naming both fixes', async () => {
    const r = await runCli(['check', ...tok, '.'], { env: noDockerEnv(box, { E2E_TOKEN: VALUE }), cwd: plain.dir });
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(ONE_LINE)]);
    expect(r.stderr).toContain('secbuild cannot tell its version');
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });

  test('--dry-run build on daemon 26.1: exit 2 and the one line, no build started', async () => {
    const { env, runs } = fake.record({ E2E_TOKEN: VALUE, FAKE_SERVER_VERSION: '26.1.5+dfsg1' });
    const r = await runCli(['--dry-run', ...tok, '-t', 'x', plain.dir], { env });
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(ONE_LINE)]);
    expect(r.stderr).toContain("docker engine 26.1.5+dfsg1's own frontend parses it, and engines before 27.3 refuse the env key");
    expect(r.stdout).toBe('');
    expect(runs()).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });

  test('a build (not dry) on a daemon that does not answer: exit 2 before docker builds', async () => {
    const { env, runs } = fake.record({ E2E_TOKEN: VALUE });
    const r = await runCli([...tok, '-t', 'x', plain.dir], { env });
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(ONE_LINE)]);
    expect(runs()).toEqual([]);
  });

  test('daemon 28.2 (its own frontend is newer than 1.10): the build goes ahead', async () => {
    const { env } = fake.record({ E2E_TOKEN: VALUE, FAKE_SERVER_VERSION: '28.2.2' });
    const r = await runCli(['--dry-run', ...tok, '-t', 'x', plain.dir], { env });
    expect(r.stderr).not.toMatch(/env=TOKEN/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ build --secret id=tok,src=/);
  });

  test('# syntax=docker/dockerfile:1.10: accepted without asking the daemon, by check and by a build', async () => {
    const c = await runCli(['check', ...tok, '.'], { env: noDockerEnv(box, { E2E_TOKEN: VALUE }), cwd: pinned.dir });
    expect([c.code, c.stderr]).toEqual([0, '']);
    const { env, calls } = fake.record({ E2E_TOKEN: VALUE });
    const r = await runCli(['--dry-run', ...tok, '-t', 'x', pinned.dir], { env });
    expect(r.code).toBe(0);
    expect(calls().filter((c) => c.includes('Server'))).toEqual([]);
  });
});

describe('env= on a secret mount under compose build (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = context(['FROM $BASE', 'RUN --mount=type=secret,id=tok,env=TOKEN sh -c \'test -n "$TOKEN"\'', ''].join('\n'));
  writeFileSync(`${proj.dir}/compose.yaml`, ['services:', '  app:', '    build:', '      context: .', '      secrets: [tok]', 'secrets:', '  tok:', '    environment: E2E_TOKEN', ''].join('\n'));
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });

  test('daemon 26.1: the service is refused with the one line before a build starts (exit 2)', async () => {
    const { env, runs } = fake.record({ E2E_TOKEN: VALUE, FAKE_SERVER_VERSION: '26.1.5+dfsg1' });
    const r = await runCli(['compose', 'build', '--engine', 'direct', '--secret', 'id=tok,from=env:E2E_TOKEN'], { env, cwd: proj.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Dockerfile:2: RUN --mount … env=TOKEN needs the Dockerfile frontend 1\.10 or later/);
    expect(runs()).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });
});
