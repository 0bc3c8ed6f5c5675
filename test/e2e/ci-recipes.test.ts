/**
 * The CI recipes of examples/ci, run (issue 24): the workflows' own commands,
 * parsed from the YAML as shipped, in a temp copy of examples/ci, against the
 * e2e tier's Verdaccio (test/helpers/servers.ts: every package needs a token;
 * it holds @acme/greeter 1.2.0, whose integrity the example's lock pins) and
 * the real daemon.
 *
 * What is simulated, and how:
 * - `uses:` steps: actions/checkout of the project is the temp copy itself;
 *   actions/checkout of secbuild is a `git clone --depth 1` of the repository
 *   under test (its committed HEAD) into the path the step names;
 *   actions/setup-node is the Node running the tests; docker/setup-buildx-action
 *   (driver docker) is the e2e tier's BuildKit docker (SECBUILD_DOCKER, with
 *   DOCKER_BUILDKIT=1, as every e2e test uses it). GitLab's `apk add` is not run
 *   (the machine has node, npm and git), and its dind service is the daemon.
 * - The copy points at the local registry: the test rewrites secbuild.yml's
 *   registry URL (GitHub Packages) to Verdaccio's, and package.json's `image`
 *   script from `secbuild -t my-app .` to the same command with
 *   `--network=host` (Verdaccio listens on 127.0.0.1), the tier's Debian base
 *   (`--build-arg BASE=`, node:20-alpine is not pulled here) and a tag of its own.
 *   The workflows' lines are run unchanged.
 * - `npm install --global` goes to a temp prefix (npm_config_prefix), whose bin
 *   is first on PATH; npm_config_prefer_offline takes secbuild's own
 *   dependencies from npm's cache where `npm ci` of this checkout put them.
 * - `run:` steps run with GitHub's default shell, `bash -e {0}`, in order, with
 *   GITHUB_ACTIONS=true, RUNNER_TEMP and the step's `env:` from the fake
 *   `secrets.*` (NPM_TOKEN is Verdaccio's token); GitLab's before_script (but
 *   `apk add`) and script lines run as one `sh -e` script, as the runner does,
 *   with CI=true, GITLAB_CI=true, the job's variables, NPM_TOKEN and
 *   SECBUILD_GIT_URL (file:// of the repository under test).
 *
 * Each job installs secbuild itself (its own lines are what is tested): about
 * 20 s each with a warm npm cache.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, test } from 'vitest';
import { expectNoSecret, listDir, nonce, ROOT, sandbox } from '../helpers/cli.js';
import { CI_EXAMPLE, expand, githubSteps, gitlabJob, runIn, withoutAddMask, type Ran } from '../helpers/ci-workflows.js';
import { describeE2E, docker, DOCKER, expectLogged } from '../helpers/e2e.js';
import { cleanEnv } from '../helpers/servers.js';

const servers = inject('servers');
const id = nonce();
const GREETING = 'Hello, world, from the private @acme/greeter 1.2.0\n';

describeE2E('CI recipes: the workflows\' commands against a local registry (uses: steps simulated)', () => servers.skip, () => {
  const s = servers.info!;
  // Not under the `secbuild-e2e-*` names the teardown of another e2e run sweeps (see registries.test.ts).
  const box = sandbox('secbuild-ci-recipes-');
  const dirs: string[] = [];
  const tags: string[] = [];
  afterAll(async () => {
    if (tags.length) await docker(['rmi', '-f', ...tags]);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    box.cleanup();
  });

  /** A temp copy of examples/ci pointed at Verdaccio (the two rewrites the header names), a prefix, a TMPDIR. */
  function workspace(job: string): { dir: string; project: string; prefix: string; temp: string; tag: string } {
    const dir = mkdtempSync(join(tmpdir(), `secbuild-ci-recipes-${job}-`));
    dirs.push(dir);
    const project = join(dir, 'project');
    cpSync(CI_EXAMPLE, project, { recursive: true });
    const tag = `secbuild-e2e-ci-${job}:${id}`;
    tags.push(tag);
    const rewrite = (file: string, from: string, to: string) => {
      const text = readFileSync(join(project, file), 'utf8');
      expect(text, `${file} no longer holds ${from}`).toContain(from);
      writeFileSync(join(project, file), text.replace(from, to));
    };
    rewrite('secbuild.yml', 'registry: "https://npm.pkg.github.com/"', `registry: "${s.npm.registry}"`);
    rewrite('package.json', '"image": "secbuild -t my-app ."', `"image": "secbuild --network=host --build-arg BASE=${s.caImage} -t ${tag} ."`);
    for (const d of ['prefix', 'temp']) mkdirSync(join(dir, d));
    return { dir, project, prefix: join(dir, 'prefix'), temp: join(dir, 'temp'), tag };
  }

  /** The environment every job step runs with (the header's list); `extra` adds the CI system's own variables. */
  const jobEnv = (w: { prefix: string; temp: string }, extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
    cleanEnv({
      PATH: `${join(w.prefix, 'bin')}:${process.env.PATH}`,
      npm_config_prefix: w.prefix,
      npm_config_prefer_offline: 'true',
      npm_config_update_notifier: 'false',
      TMPDIR: w.temp,
      SECBUILD_DOCKER: DOCKER,
      DOCKER_BUILDKIT: '1',
      SECBUILD_TMPDIR: box.tmp,
      XDG_CACHE_HOME: box.cache,
      CI: 'true',
      GITHUB_ACTIONS: undefined,
      GITLAB_CI: undefined,
      ...extra,
    });

  const failed = (r: Ran) => `${r.what} exited ${r.code}\n${r.stderr.slice(-3000)}`;

  /**
   * The build context as docker sends it, after .dockerignore: a throwaway
   * `FROM scratch` + `COPY . /` exported with `-o type=local`. (The example's
   * own Dockerfile COPYs named files, and BuildKit transfers only those; a
   * project's `COPY . .` would send everything else too.) It must be the
   * example's files: no `.secbuild` checkout, no `node_modules` of the host-side install.
   */
  async function contextAsSent(w: { project: string; temp: string }): Promise<string[]> {
    const dockerfile = join(w.temp, 'context.Dockerfile');
    writeFileSync(dockerfile, 'FROM scratch\nCOPY . /\n');
    const out = join(w.temp, 'context-as-sent');
    const r = await docker(['build', '-q', '-f', dockerfile, '-o', `type=local,dest=${out}`, w.project]);
    expect(r.code, r.stderr).toBe(0);
    const seen = listDir(out).sort();
    rmSync(out, { recursive: true, force: true });
    rmSync(dockerfile);
    return seen;
  }

  /** The image has the private package and runs it; `secbuild verify` finds no form of the token in it. */
  async function imageProved(w: { project: string; prefix: string; tag: string }, env: NodeJS.ProcessEnv): Promise<void> {
    const app = await docker(['run', '--rm', '--network=none', w.tag]);
    expect(app.stdout.toString()).toBe(GREETING);
    const verify = await runIn('secbuild verify', [join(w.prefix, 'bin', 'secbuild'), 'verify', w.tag], w.project, env);
    expect(verify.code, failed(verify)).toBe(0);
    expect(verify.stderr + verify.stdout).toMatch(/: clean; searched \d+ layers/);
    expect(listDir(box.tmp)).toEqual([]);
  }

  test('GitHub Actions: every step exits 0, masks are registered before docker prints, the context leaves .secbuild out, the image is clean', { timeout: 600_000 }, async () => {
    const w = workspace('github');
    const secrets = { NPM_TOKEN: s.npm.token };
    const vars = { SECBUILD_REPO: 'owner/secbuild' };
    const base = jobEnv(w, { GITHUB_ACTIONS: 'true', RUNNER_TEMP: w.temp });
    const ran: Ran[] = [];
    const at = existsSync(s.npm.log) ? readFileSync(s.npm.log).length : 0;
    for (const [i, step] of githubSteps().entries()) {
      if (step.uses !== undefined) {
        const action = step.uses.replace(/@.*/, '');
        if (action === 'actions/checkout' && step.with?.repository !== undefined) {
          expand(step.with.repository, { secrets, vars });
          const r = await runIn('checkout of secbuild', ['git', 'clone', '-q', '--depth', '1', `file://${ROOT}`, join(w.project, step.with.path!)], w.project, base);
          expect(r.code, failed(r)).toBe(0);
        } else if (action === 'docker/setup-buildx-action') {
          // The image must land in the daemon's store (verify, docker run, a later push).
          expect(step.with?.driver).toBe('docker');
        } else if (action !== 'actions/checkout' && action !== 'actions/setup-node') {
          throw new Error(`step ${i} uses ${step.uses}, which this test does not simulate`);
        }
        continue;
      }
      const script = join(w.temp, `step-${i}.sh`);
      writeFileSync(script, step.run!);
      const env = { ...base, ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(v, { secrets, vars })])) };
      const r = await runIn(step.name ?? step.run!.split('\n')[0]!, ['bash', '-e', script], w.project, env);
      ran.push(r);
      expect(r.code, failed(r)).toBe(0);
      expect(listDir(box.tmp), `${r.what} left files in the secret root`).toEqual([]);
    }
    expect(ran.map((r) => r.what)).toEqual(['Install secbuild', 'secbuild exec -- npm ci --no-audit --no-fund', 'npm run image']);
    const [install, exec, image] = ran as [Ran, Ran, Ran];

    // secbuild's checkout was installed into the prefix and removed from the build context.
    expect(existsSync(join(w.prefix, 'bin', 'secbuild'))).toBe(true);
    expect(existsSync(join(w.project, '.secbuild'))).toBe(false);
    expect(install.stdout).toContain(`secbuild-${(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version}.tgz`);
    // The host-side install through secbuild's .npmrc: the private package, and no .npmrc in the checkout.
    expect(existsSync(join(w.project, 'node_modules', '@acme', 'greeter', 'package.json'))).toBe(true);
    expect(existsSync(join(w.project, '.npmrc'))).toBe(false);

    for (const r of [exec, image]) {
      expect(r.stderr, r.what).toContain(`::add-mask::${s.npm.token}\n`);
      expect(r.stderr, r.what).toMatch(/^::group::secbuild$/m);
      expectNoSecret(r.stdout + withoutAddMask(r.stderr), [s.npm.token]);
    }
    // Every mask is registered, and the group closed, before docker's first line (BuildKit's `#N `).
    const lines = image.stderr.split('\n');
    const lastMask = lines.map((l) => l.startsWith('::add-mask::')).lastIndexOf(true);
    const firstDocker = lines.findIndex((l) => /^#\d+ /.test(l));
    expect(firstDocker, image.stderr).toBeGreaterThan(0);
    expect(lastMask).toBeLessThan(lines.indexOf('::endgroup::'));
    expect(lines.indexOf('::endgroup::')).toBeLessThan(firstDocker);
    expect(await contextAsSent(w)).toEqual(listDir(CI_EXAMPLE).sort());
    await expectLogged(s.npm.log, at, /200, user: e2e\w+\(127\.0\.0\.1\), req: 'GET \/@acme\/greeter\/-\/greeter-1\.2\.0\.tgz'/);
    await imageProved(w, { ...base, ...secrets });
  });

  test('GitLab CI: before_script (but apk add) and script run as one sh -e script; the context leaves the clone out, the image is clean', { timeout: 600_000 }, async () => {
    const w = workspace('gitlab');
    const job = gitlabJob();
    expect(job.before_script[0]).toMatch(/^apk add /);
    const lines = [...job.before_script.filter((l) => !l.startsWith('apk add ')), ...job.script];
    // GitLab echoes each line before running it; a marker per line says which one failed.
    const script = lines.map((l, i) => `echo '@@ line ${i}' >&2\n${l}`).join('\n');
    const env = jobEnv(w, { ...job.variables, GITLAB_CI: 'true', NPM_TOKEN: s.npm.token, SECBUILD_GIT_URL: `file://${ROOT}` });
    const r = await runIn('gitlab job', ['sh', '-e', '-c', script], w.project, env);
    expect(r.code, failed(r)).toBe(0);
    expect(r.stderr).toContain(`@@ line ${lines.length - 1}`);
    expect(listDir(box.tmp)).toEqual([]);
    // The clone went to a mktemp dir under TMPDIR and was removed; nothing of it in the project.
    expect(listDir(w.temp)).toEqual([]);
    expect(listDir(w.project).sort()).toEqual([...listDir(CI_EXAMPLE), 'node_modules'].sort());
    expect(existsSync(join(w.prefix, 'bin', 'secbuild'))).toBe(true);
    expectNoSecret(r.stdout + r.stderr, [s.npm.token]);
    expect(r.stderr).not.toContain('::add-mask::');
    expect(await contextAsSent(w)).toEqual(listDir(CI_EXAMPLE).sort());
    await imageProved(w, { ...env, NPM_TOKEN: s.npm.token });
  });
});
