/**
 * The README's first commands, literally (issue 11 item 5, issue 24 item 2):
 * they are read from README.md, so this fails when the README drifts.
 *
 * In a fresh clone of this checkout, the quick start's first command (`npm ci
 * && npm run demo`) must install, build examples/hello with a generated
 * secret, verify the image and say so; the base image it needs is a
 * throwaway name here, so the demo's own import from busybox-static runs too.
 * The second is the test command: it must be the one .ci/run calls (running
 * the whole suite inside itself would recurse, so it is not run here). Then
 * every command of "Try it" runs as printed, and the demo printed the first.
 *
 * On a docker 28 without buildx (this machine's /usr/local/bin/docker, with
 * the system's buildx plugin hidden in a private mount namespace, as in
 * ./engine-cache.test.ts), the demo and "Try it" agree: both stop with
 * secbuild's refusal naming /usr/bin/docker; with the SECBUILD_DOCKER it
 * names, the demo builds and the command it prints next builds too.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BASE, nonce, ROOT, sandbox } from '../helpers/cli.js';
import { describeE2E, docker } from '../helpers/e2e.js';
import { readmeCommands, tryItCommands } from '../helpers/readme.js';

const quickStart = () => readmeCommands('Quick start', { first: true });
/** The README's "Try it" example image: the tests that build it remove it. */
const TRY_IT_IMAGE = 'secbuild-hello';
/** What the demo prints as the command to run next. */
const nextCommand = (stdout: string) => /^demo: next, try it yourself: (.*)$/m.exec(stdout)?.[1];
const secbuildLines = (text: string) => text.split('\n').filter((l) => l.startsWith('secbuild: '));

/** A user's environment: no SECBUILD_DOCKER unless the tier runs another docker, no DOCKER_BUILDKIT. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DOCKER_BUILDKIT;
  if (process.env.SECBUILD_E2E_DOCKER) env.SECBUILD_DOCKER = process.env.SECBUILD_E2E_DOCKER;
  else delete env.SECBUILD_DOCKER;
  return { ...env, ...extra };
}

describe('README quick start', () => {
  test('is exactly two commands, and the second is the one .ci/run calls', () => {
    const commands = quickStart();
    expect(commands).toEqual(['npm ci && npm run demo', 'npm test']);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(new RegExp(`^\\s*${commands[1]}$`, 'm'));
  });

  describeE2E('in a fresh clone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secbuild-e2e-readme-'));
    const clone = join(dir, 'secbuild');
    const image = `secbuild-e2e-readme-hello:${nonce()}`;
    const base = `secbuild-e2e-readme-base:${nonce()}`;
    let demoOut = '';
    afterAll(async () => {
      await docker(['image', 'rm', '-f', image, base, TRY_IT_IMAGE]);
      rmSync(dir, { recursive: true, force: true });
    });

    test('the first command builds examples/hello with a generated secret and verifies it', { timeout: 600_000 }, () => {
      execFileSync('git', ['clone', '-q', ROOT, clone]);
      const env = userEnv({ SECBUILD_DEMO_IMAGE: image, SECBUILD_DEMO_LOCAL_BASE: base });
      const r = spawnSync('bash', ['-c', quickStart()[0]!], { cwd: clone, env, encoding: 'utf8', timeout: 590_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^demo: base image: (importing .* from \/bin\/busybox|tagging busybox:1\.36 as )/m);
      expect(r.stdout + r.stderr).toMatch(/greeting is 29 bytes/);
      expect(r.stderr).toMatch(/verify: \S+: clean;/);
      expect(r.stdout).toMatch(/^demo: done: /m);
      demoOut = r.stdout;
    });

    test('"Try it" runs as printed, after the quick start; the demo printed its first command', { timeout: 300_000 }, () => {
      const commands = tryItCommands();
      expect(commands.length).toBeGreaterThanOrEqual(3);
      // The demo used the throwaway base; the README uses the one it makes by default.
      expect(nextCommand(demoOut)?.replace(`BASE=${base}`, `BASE=${BASE}`)).toBe(commands[0]);
      const outputs = commands.map((c) => {
        const r = spawnSync('bash', ['-c', c], { cwd: clone, env: userEnv(), encoding: 'utf8', timeout: 240_000 });
        expect(r.status, `${c}\n${r.stdout}\n${r.stderr}`).toBe(0);
        return r.stdout + r.stderr;
      });
      expect(outputs[0]).toMatch(/greeting is 6 bytes/);
      expect(outputs[0]).not.toMatch(/s3cret/);
      expect(outputs.slice(1).join('\n')).toMatch(/verify: \S+: clean;/);
    });
  });
});

const DOCKER28 = '/usr/local/bin/docker';
const DOCKER20 = '/usr/bin/docker';
const SYSTEM_PLUGINS = ['/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins'];
const missing = () =>
  !existsSync(DOCKER28) ? `${DOCKER28} (a 23+ docker CLI) is missing`
  : !existsSync(DOCKER20) ? `${DOCKER20} (Debian's docker.io 20.10) is missing`
  : process.geteuid?.() !== 0 ? 'this test binds over the plugin directories in a mount namespace, which needs root'
  : undefined;

describeE2E('the demo and "Try it" on a docker 28 without buildx', missing, () => {
  const box = sandbox('sb-demo28-');
  const image = `secbuild-demo-hello:${nonce()}`;
  const empty = join(box.dir, 'empty');
  const dockerConfig = join(box.dir, 'docker-config');
  mkdirSync(empty);
  mkdirSync(dockerConfig);
  afterAll(async () => {
    await docker(['image', 'rm', '-f', image, TRY_IT_IMAGE]);
    box.cleanup();
  });

  /** `command` in bash, in ROOT, where the system's buildx plugin is hidden and docker 28 is first on PATH. */
  const inNamespace = (command: string, extra: NodeJS.ProcessEnv = {}) => {
    const binds = SYSTEM_PLUGINS.filter(existsSync).map((d) => `mount --bind '${empty}' '${d}'`);
    const env = userEnv({ PATH: `/usr/local/bin:${process.env.PATH}`, DOCKER_CONFIG: dockerConfig, SECBUILD_TMPDIR: box.tmp, XDG_CACHE_HOME: box.cache, SECBUILD_DEMO_IMAGE: image, ...extra });
    if (!('SECBUILD_DOCKER' in extra)) delete env.SECBUILD_DOCKER; // this machine's docker 28 decides, whatever the tier runs
    return spawnSync('unshare', ['-m', '--propagation', 'private', '/bin/sh', '-c', `${[...binds, 'exec "$@"'].join(' && ')}`, 'sh', 'bash', '-c', command], { cwd: ROOT, env, encoding: 'utf8', timeout: 300_000 });
  };

  test('both stop with secbuild\'s refusal naming /usr/bin/docker; with it, the demo builds and its next command too', { timeout: 600_000 }, () => {
    const tryIt = tryItCommands({ first: true })[0]!;
    const refused = inNamespace(tryIt);
    expect(refused.status, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/without the buildx plugin, so it cannot build with BuildKit\. \/usr\/bin\/docker \(20\.10\) can: rerun with SECBUILD_DOCKER=\/usr\/bin\/docker/);

    const demo = inNamespace('node scripts/demo.mjs');
    expect(demo.status, `${demo.stdout}\n${demo.stderr}`).toBe(2);
    expect(secbuildLines(demo.stderr)).toEqual(secbuildLines(refused.stderr));

    const again = inNamespace('node scripts/demo.mjs', { SECBUILD_DOCKER: DOCKER20 });
    expect(again.status, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stdout).toMatch(/^demo: done: /m);
    const next = nextCommand(again.stdout);
    expect(next).toBe(`SECBUILD_DOCKER=${DOCKER20} ${tryIt}`);
    const built = inNamespace(next!);
    expect(built.status, `${built.stdout}\n${built.stderr}`).toBe(0);
    expect(built.stdout + built.stderr).toMatch(/greeting is 6 bytes/);
  });
});
