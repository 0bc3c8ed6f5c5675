/**
 * `secbuild bake` without a daemon: the docker stand-in
 * (test/helpers/fake-docker.ts) prints a bake definition for `buildx bake
 * --print` (FAKE_BAKE_PRINT) and records the bake's argv and the secret files
 * at the moment it runs. So these tests check argv, files and the errors that
 * stop a run before bake only; builds, masking and signals against the real
 * buildx are in test/e2e/bake.test.ts.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { listDir, runCli, sandbox, startCli, tree } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

const VALUE = 'bake-cli-s3cret-9f2d';
const DOCKERFILE = 'FROM x\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n';

describe('secbuild bake (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = tree({ 'app/Dockerfile': DOCKERFILE, 'other/Dockerfile': 'FROM x\nRUN --mount=type=secret,id=nobody,required=true true\n' });
  const print = (targets: Record<string, unknown>) => JSON.stringify({ target: targets });
  const TWO = print({
    a: { context: 'app', dockerfile: 'Dockerfile', secret: ['id=tok,env=TOK', 'id=own,env=OWN'] },
    b: { context: 'app', dockerfile: 'Dockerfile' },
    c: { context: 'app', dockerfile: 'Dockerfile', secret: ['id=own,env=OWN'], args: { N: '1' } },
  });
  const record = (p: string) => fake.record({ FAKE_BUILDX_INSPECT: 'Driver: docker', FAKE_BAKE_PRINT: p, MYTOK: VALUE, OWN: 'kept' });
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });

  test('each target that lists or mounts the id gets one --set with the file; its own entries are kept; the file holds the value while bake runs', async () => {
    const rec = record(TWO);
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK', '--no-cache', 'a', 'b', 'c'], { env: rec.env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(rec.calls().filter((c) => c.includes('--print'))).toEqual(['buildx bake --print -- a b c']);
    const argv = rec.read('argv').trimEnd().split('\n');
    expect(argv.slice(0, 3)).toEqual(['buildx', 'bake', '--no-cache']);
    const sets = argv.filter((_, i) => argv[i - 1] === '--set');
    expect(sets).toEqual([
      'a.secrets=id=own,env=OWN',
      expect.stringMatching(new RegExp(`^a\\.secrets=id=tok,src=${box.tmp}/secbuild-\\d+-\\w+/00-tok$`)),
      expect.stringMatching(/^b\.secrets=id=tok,src=\S+\/00-tok$/),
      expect.stringMatching(/^c\.secrets=id=own,env=OWN$/),
      expect.stringMatching(/^c\.secrets=id=tok,src=\S+\/00-tok$/),
    ]);
    expect(argv.slice(-4)).toEqual(['--', 'a', 'b', 'c']);
    expect(rec.read('files/00-tok')).toBe(VALUE);
    expect(rec.read('files/00-tok.ls')).toMatch(/^-rw-------/);
    expect(rec.read('env')).not.toContain(VALUE);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--dry-run prints the plan per target (ids, files, bake\'s own entries) and runs no bake; no value', async () => {
    const rec = record(TWO);
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK', '--dry-run'], { env: rec.env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`target a: context app, Dockerfile ${proj.dir}/app/Dockerfile, secbuild secrets tok \\(\\S+/00-tok\\), bake's own id=own,env=OWN`));
    expect(r.stdout).toContain('target b: context app');
    expect(r.stdout).toMatch(/DOCKER_BUILDKIT=1 \S+docker buildx bake --set a\.secrets=id=own,env=OWN --set a\.secrets=id=tok,src=\S+ --set b\.secrets/);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(rec.runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a target whose Dockerfile mounts an id nobody grants: exit 2 naming target, file and line, before bake runs', async () => {
    const rec = record(print({ a: { context: 'app', dockerfile: 'Dockerfile', secret: ['id=tok,env=TOK'] }, o: { context: 'other', dockerfile: 'Dockerfile' } }));
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK'], { env: rec.env, cwd: proj.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`target "o": ${proj.dir}/other/Dockerfile:2: RUN mounts secret "nobody"`);
    expect(rec.runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('GITHUB_ACTIONS=true: add-mask lines for each form and the secbuild group on stderr, closed before bake runs; stdout empty (docker stand-in: argv and files only)', async () => {
    const rec = fake.record({ FAKE_BUILDX_INSPECT: 'Driver: docker', FAKE_BAKE_PRINT: TWO, MYTOK: VALUE, OWN: 'kept', GITHUB_ACTIONS: 'true' });
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK', 'a', 'b'], { env: rec.env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const err = r.stderr.split('\n');
    expect(err[0]).toBe('::group::secbuild');
    expect(err).toContain(`::add-mask::${VALUE}`);
    expect(err).toContain(`::add-mask::${Buffer.from(VALUE).toString('base64')}`);
    const end = err.indexOf('::endgroup::');
    expect(end).toBeGreaterThan(err.map((l) => l.startsWith('::add-mask::')).lastIndexOf(true));
    expect(err.filter((l) => l === '::endgroup::')).toHaveLength(1);
    expect(rec.read('argv')).toMatch(/^buildx\nbake\n/);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test("a bake file's context and dockerfile with terminal escapes: the error shows them without control characters (argv and files only)", async () => {
    const rec = record(print({ e: { context: 'app\u001b]0;pwned\u0007', dockerfile: 'D\u001b[2J\r\u009b31m' } }));
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK'], { env: rec.env, cwd: proj.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('target "e": cannot read the Dockerfile');
    // eslint-disable-next-line no-control-regex
    expect(r.stderr.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(rec.runs()).toEqual([]);
  });

  test("a target whose Dockerfile is a FIFO nobody writes: SIGINT ends secbuild (exit 130) within 5 s, no run directory left (argv and files only)", async () => {
    const fifoProj = tree({ 'docker-bake.hcl': '' });
    try {
      execFileSync('mkfifo', [join(fifoProj.dir, 'Dockerfile')]);
      const rec = record(print({ f: { context: '.', dockerfile: 'Dockerfile' } }));
      const run = startCli(['bake', '--secret', 'id=tok,from=env:MYTOK'], { env: rec.env, cwd: fifoProj.dir });
      await new Promise((r) => setTimeout(r, 1500)); // at the preflight, waiting for the FIFO's writer
      run.child.kill('SIGINT');
      const killer = setTimeout(() => run.child.kill('SIGKILL'), 5000);
      const r = await run.done;
      clearTimeout(killer);
      expect(r.signal, 'secbuild did not end after SIGINT (SIGKILLed at 5 s)').toBeNull();
      expect(r.code).toBe(130);
      expect(rec.runs()).toEqual([]);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      fifoProj.cleanup();
    }
  }, 15_000);

  test("a target's build-arg carrying a secret is refused (exit 4) before bake runs", async () => {
    const rec = record(print({ a: { context: 'app', dockerfile: 'Dockerfile', args: { LEAK: VALUE } } }));
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK'], { env: rec.env, cwd: proj.dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('target "a": --build-arg LEAK carries secret "tok"');
    expect(r.stderr).not.toContain(VALUE);
    expect(rec.runs()).toEqual([]);
  });

  test("a target's dockerfile-inline carrying a secret (bake substituted a variable that holds it) is refused (exit 4) before bake runs; --allow-secret-build-arg dockerfile-inline lets it through", async () => {
    const inline = `FROM x\nRUN --mount=type=secret,id=tok true\nRUN echo ${VALUE} > /dev/null\n`;
    const rec = record(print({ a: { context: 'app', 'dockerfile-inline': inline } }));
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK'], { env: rec.env, cwd: proj.dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/target "a": dockerfile-inline carries secret "tok" \(env:MYTOK\); an inline Dockerfile's text is recorded in the image history/);
    expect(r.stderr).not.toContain(VALUE);
    expect(rec.runs()).toEqual([]);
    const allowed = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK', '--allow-secret-build-arg', 'dockerfile-inline'], { env: rec.env, cwd: proj.dir });
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain('target "a": dockerfile-inline carries secret "tok" and is let through by --allow-secret-build-arg');
    expect(allowed.stderr).not.toContain(VALUE);
  });
});
