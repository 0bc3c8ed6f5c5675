/**
 * `npm run demo` (scripts/demo.mjs) where it cannot build: it says the one
 * thing to install or run and exits 2 (issue 11 item 5). Which docker builds
 * is the CLI's decision, not the demo's (issue 24 item 2): the demo runs
 * secbuild first and stops with secbuild's own words, the ones the README's
 * "Try it" command then prints too. The docker stand-in answers the version
 * probes only; these tests check the demo's decisions (argv and files only).
 * The demo's real build, and a real docker 28 without buildx, are
 * test/e2e/readme.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ROOT, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';
import { tryItCommands } from '../helpers/readme.js';

const demo = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'demo.mjs')], { env, encoding: 'utf8', timeout: 60_000 });
const secbuildLines = (text: string) => text.split('\n').filter((l) => l.startsWith('secbuild: '));

describe('npm run demo stops with the fix (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  afterAll(() => box.cleanup());

  test('a 23+ docker CLI without buildx: exit 2 with secbuild\'s own refusal, before any setup (argv and files only)', () => {
    const rec = fake.record({ FAKE_CLIENT_VERSION: '28.2.2' });
    const r = demo(rec.env);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^secbuild: \S+ is docker 28\.2\.2 without the buildx plugin, so it cannot build with BuildKit\. .*Debian 12 has no docker-buildx package/m);
    expect(r.stderr).toMatch(/^demo: .*npm run demo again/m);
    // Only secbuild's probes reached docker: no info, image inspect, import or build.
    expect(rec.calls().filter((c) => !/^(version|buildx version|build --help)( |$)/.test(c))).toEqual([]);
  });

  test('the refusal is word for word what the README\'s "Try it" command prints (argv and files only)', () => {
    const env = fake.record({ FAKE_CLIENT_VERSION: '28.2.2' }).env;
    const tryIt = tryItCommands({ first: true })[0]!;
    expect(tryIt).toMatch(/secbuild .*examples\/hello$/);
    const first = spawnSync('bash', ['-c', tryIt], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    expect(first.status, first.stderr).toBe(2);
    const said = secbuildLines(first.stderr);
    expect(said.join('\n')).toMatch(/without the buildx plugin/);
    expect(secbuildLines(demo(env).stderr)).toEqual(said);
  });

  test('no daemon: exit 2, says how to start one (argv and files only)', () => {
    const r = demo(fake.record().env);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^demo: no Docker daemon answers through \S+ .*sudo systemctl start docker.*sudo bash \.ci\/provision\.sh/m);
  });

  test('no docker CLI at all (a machine with nothing but Node): exit 0, the secret resolved and the Dockerfile checked, one line saying nothing was built', () => {
    const empty = join(box.dir, 'empty-bin');
    mkdirSync(empty, { recursive: true });
    const { SECBUILD_DOCKER: _d, DOCKER_HOST: _h, ...rest } = process.env;
    const r = demo({ ...rest, PATH: empty, SECBUILD_TMPDIR: box.tmp, XDG_CACHE_HOME: box.cache });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^greeting +env:HELLO_TOKEN +ok +29 /m);
    expect(r.stdout).toMatch(/hello\/Dockerfile: no findings$/m);
    expect(r.stdout).toMatch(/^demo: no docker CLI on this machine, so nothing was built: /m);
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^demo: to build, install docker .*sudo bash \.ci\/provision\.sh.* run npm run demo again\.$/);
    expect(r.stdout).not.toMatch(/demo-[0-9a-f]{24}/);
  });

  test('a SECBUILD_DOCKER that names nothing: exit 2, secbuild\'s line and the demo\'s', () => {
    const r = demo({ ...process.env, SECBUILD_DOCKER: join(box.dir, 'no-such-docker'), SECBUILD_TMPDIR: box.tmp, XDG_CACHE_HOME: box.cache });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^demo: secbuild stopped before building \(exit 2\)/m);
  });
});
