/**
 * docker's global `--context NAME` and `-H/--host URL` given to secbuild
 * (issue 23): every docker child of the run — the probes, the build, compose,
 * and verify's `image inspect` / `save` — gets DOCKER_CONTEXT or DOCKER_HOST
 * for that daemon. The docker stand-in only records each call's first word
 * and those two variables (argv and environment only); that the build then
 * really lands on that daemon is test/e2e/engines-outputs.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { context, listDir, nonce, runCli } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

const VALUE = `daemon-${nonce()}-secret`;

describe('--context and -H reach every docker child (argv and environment only)', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
  const tok = ['--secret', 'id=tok,from=env:D_TOK'];

  test('build --context NAME: probes and the build get DOCKER_CONTEXT=NAME and no DOCKER_HOST (recorded env only)', async () => {
    const rec = fake.record({ D_TOK: VALUE, DOCKER_HOST: 'unix:///elsewhere.sock' });
    const r = await runCli(['--context', 'd26', ...tok, '-t', 'x', ctx.dir], { env: rec.env });
    expect(r.code, r.stderr).toBe(0);
    const lines = rec.daemons();
    expect(lines.some((l) => l.startsWith('build\t'))).toBe(true);
    expect(lines.some((l) => l.startsWith('version\t'))).toBe(true);
    for (const l of lines) expect(l).toMatch(/\td26\t\(unset\)$/);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('build -H URL and --host=URL: every child gets DOCKER_HOST=URL and no DOCKER_CONTEXT (recorded env only)', async () => {
    for (const flag of [['-H', 'tcp://10.0.0.9:2376'], ['--host=tcp://10.0.0.9:2376']]) {
      const rec = fake.record({ D_TOK: VALUE, DOCKER_CONTEXT: 'other', DOCKER_TLS_VERIFY: '1' });
      const r = await runCli([...flag, ...tok, '-t', 'x', ctx.dir], { env: rec.env });
      expect(r.code, r.stderr).toBe(0);
      const lines = rec.daemons();
      expect(lines.some((l) => l.startsWith('build\t'))).toBe(true);
      for (const l of lines) expect(l).toMatch(/\t\(unset\)\ttcp:\/\/10\.0\.0\.9:2376$/);
    }
  });

  test('--dry-run prints the variable before the command (argv only)', async () => {
    const rec = fake.record({ D_TOK: VALUE });
    const r = await runCli(['--dry-run', '--context', 'd26', ...tok, '-t', 'x', ctx.dir], { env: rec.env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^DOCKER_CONTEXT=d26 DOCKER_BUILDKIT=1 \S+docker build /);
  });

  test('secbuild verify --context NAME: image inspect and save ask that daemon (recorded env only)', async () => {
    const rec = fake.record({ D_TOK: VALUE });
    const r = await runCli(['verify', '--context', 'd26', ...tok, 'app:1'], { env: rec.env });
    // the stand-in has no image: exit 2, but the calls were made with the context
    expect(r.code).toBe(2);
    const lines = rec.daemons();
    expect(lines.map((l) => l.split('\t')[0])).toEqual(expect.arrayContaining(['image', 'save']));
    for (const l of lines) expect(l).toMatch(/\td26\t\(unset\)$/);
  });

  test('compose --context NAME: `docker compose` gets DOCKER_CONTEXT (recorded env only)', async () => {
    const proj = context('FROM $BASE\n', { 'compose.yaml': 'services:\n  app: { build: { context: . } }\n' });
    try {
      const rec = fake.record({ D_TOK: VALUE });
      const r = await runCli(['compose', '--context', 'd26', 'build', ...tok], { env: rec.env, cwd: proj.dir });
      expect(r.code, r.stderr).toBe(0);
      const lines = rec.daemons().filter((l) => l.startsWith('compose\t'));
      expect(lines.length).toBeGreaterThan(0);
      for (const l of lines) expect(l).toMatch(/\td26\t\(unset\)$/);
    } finally {
      proj.cleanup();
    }
  });

  test('--context with -H, and either with podman, is a usage error before anything runs', async () => {
    const rec = fake.record({ D_TOK: VALUE });
    const both = await runCli(['--context', 'd26', '-H', 'tcp://x:1', ...tok, ctx.dir], { env: rec.env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--context and -H\/--host both name the daemon/);
    const podman = await runCli(['--engine', 'podman', '--podman', '/bin/true', '--context', 'd26', ...tok, ctx.dir], { env: rec.env });
    expect(podman.code).toBe(2);
    expect(podman.stderr).toMatch(/--context is docker's/);
    expect(rec.runs()).toEqual([]);
  });
});

describe('--verify asks buildx where the result goes and refuses what it cannot search (argv only)', () => {
  // Its own sandbox: engine detection is cached per binary, and here `docker build` is buildx.
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
  const tok = ['--secret', 'id=tok,from=env:D_TOK'];
  const inspect = (name: string, driver: string, endpoint: string) => `Name: ${name}\nDriver: ${driver}\n\nNodes:\nName: ${name}0\nEndpoint: ${endpoint}\nStatus: running\n`;

  test('a docker-container builder without --load: one line why, exit 2, nothing built (argv only)', async () => {
    const rec = fake.record({ D_TOK: VALUE, FAKE_BUILDX_INSPECT: inspect('ci', 'docker-container', 'unix:///var/run/docker.sock') });
    const r = await runCli(['--verify', '--builder', 'ci', ...tok, '-t', 'x', ctx.dir], { env: rec.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--verify cannot search the result: builder "ci" \(driver docker-container\) keeps the result in its own cache.*add --load/);
    expect(r.stderr).not.toMatch(/clean/);
    expect(rec.calls()).toContain('buildx inspect ci');
    expect(rec.runs().filter((c) => c.startsWith('build '))).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.each([
    [['--push'], /--push sends the image to its registry before --verify could search it/],
    [['-o', 'type=registry'], /type=registry sends the image to its registry/],
    [['-o', '-'], /writes the result to stdout/],
  ])('%j with --verify: one line why, exit 2, nothing built (argv only)', async (flags, why) => {
    const rec = fake.record({ D_TOK: VALUE, FAKE_BUILDX_INSPECT: inspect('default', 'docker', 'default') });
    const r = await runCli(['--verify', ...flags, ...tok, '-t', 'x', ctx.dir], { env: rec.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(why);
    expect(r.stderr.split('\n').filter((l) => /--verify cannot search/.test(l))).toHaveLength(1);
    expect(rec.runs().filter((c) => c.startsWith('build '))).toEqual([]);
  });

  test('a docker-container builder with --load: the build runs with an --iidfile (argv only)', async () => {
    const rec = fake.record({ D_TOK: VALUE, FAKE_BUILDX_INSPECT: inspect('ci', 'docker-container', 'unix:///var/run/docker.sock') });
    const r = await runCli(['--verify', '--builder', 'ci', '--load', ...tok, '-t', 'x', ctx.dir], { env: rec.env });
    // the stand-in writes no image id: verify stops there, never "clean"
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/docker wrote no image id/);
    expect(rec.read('argv')).toMatch(/^--iidfile$/m);
  });

  test('-o type=local,dest=DIR with --verify: no --iidfile is added (argv only)', async () => {
    const rec = fake.record({ D_TOK: VALUE, FAKE_BUILDX_INSPECT: inspect('default', 'docker', 'default') });
    const r = await runCli(['--verify', '-o', `type=local,dest=${box.dir}/nowhere`, ...tok, '-t', 'x', ctx.dir], { env: rec.env });
    // the stand-in writes nothing there: verify says so, never "clean"
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--verify: --output type=local,dest=\S+ left nothing readable at \S+nowhere \(ENOENT\)/);
    expect(rec.read('argv')).not.toMatch(/^--iidfile$/m);
  });
});
