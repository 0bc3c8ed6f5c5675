/**
 * examples/ci, read from the files as shipped (the workflows' commands are run
 * in test/e2e/ci-recipes.test.ts; the example's --dry-run build is in
 * test/cli/examples.test.ts):
 *
 * - (issue 11 item 7, issue 24) the jobs install secbuild from a checkout of
 *   its repository, never from the npm registry (where secbuild@0.1.0 is a
 *   404 until it is published): `npm ci --ignore-scripts` there, `npm pack`,
 *   `npm install --global --ignore-scripts` of the tarball (the README's
 *   "Install"; test/cli/install.test.ts runs it), and the checkout is gone
 *   from the build context before the build;
 * - (issue 24) GitHub Actions sets up buildx with the `docker` driver before
 *   secbuild runs; .dockerignore keeps `.secbuild`, `node_modules` and `.git`
 *   out; the project is complete (Dockerfile mounting secret `npmrc`, the
 *   lock of examples/npm-private, which the e2e tier's Verdaccio serves);
 * - (issue 16) the host-side `npm ci` runs through `secbuild exec`, before the
 *   image, with the example's own secbuild.yml, whose dry run names the .npmrc
 *   in NPM_CONFIG_USERCONFIG and prints no token;
 * - the README shows both files byte for byte (under `### GitHub Actions` and
 *   `### GitLab CI`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CI_EXAMPLE, githubSteps, gitlabJob } from '../helpers/ci-workflows.js';
import { listDir, noDockerEnv, nonce, ROOT, runCli, sandbox } from '../helpers/cli.js';
import { readmeYamlBlock } from '../helpers/readme.js';

const read = (file: string) => readFileSync(join(CI_EXAMPLE, file), 'utf8');

describe('examples/ci install secbuild from a checkout, outside the build context', () => {
  test('github-actions.yml: checkout into .secbuild, pack to $RUNNER_TEMP, install, remove the checkout, in one step', () => {
    const steps = githubSteps();
    const checkout = steps.findIndex((s) => s.uses === 'actions/checkout@v4' && s.with?.path === '.secbuild');
    expect(steps[checkout]!.with).toEqual({ repository: '${{ vars.SECBUILD_REPO }}', path: '.secbuild' });
    expect(steps[checkout + 1]!.run!.split('\n')).toEqual([
      'npm ci --prefix .secbuild --ignore-scripts --no-audit --no-fund',
      'npm pack ./.secbuild --pack-destination "$RUNNER_TEMP"',
      'npm install --global --ignore-scripts --no-audit --no-fund "$RUNNER_TEMP"/secbuild-*.tgz',
      'rm -rf .secbuild',
      '',
    ]);
  });

  test('gitlab-ci.yml: clone into a mktemp dir, pack, install, remove the clone', () => {
    expect(gitlabJob().before_script).toEqual([
      'apk add --no-cache nodejs npm git',
      'SECBUILD_SRC="$(mktemp -d)"',
      'git clone --depth 1 "$SECBUILD_GIT_URL" "$SECBUILD_SRC"',
      'npm ci --prefix "$SECBUILD_SRC" --ignore-scripts --no-audit --no-fund',
      'npm pack "$SECBUILD_SRC" --pack-destination "$SECBUILD_SRC"',
      'npm install --global --ignore-scripts --no-audit --no-fund "$SECBUILD_SRC"/secbuild-*.tgz',
      'rm -rf "$SECBUILD_SRC"',
    ]);
    expect(gitlabJob()).toMatchObject({ image: 'docker:27', services: ['docker:27-dind'] });
  });

  test.each(['github-actions.yml', 'gitlab-ci.yml'])('%s never installs secbuild from the npm registry', async (file) => {
    const { parse } = await import('yaml');
    // The parsed YAML: its comments may say why not (`npm install secbuild@0.1.0` answers 404).
    expect(JSON.stringify(parse(read(file)))).not.toMatch(/npm (install|i) [^"]*\bsecbuild@/);
  });

  test('.dockerignore keeps the checkout, the host-side install and git out of the context', () => {
    const patterns = read('.dockerignore').split('\n').filter((l) => l && !l.startsWith('#'));
    expect(patterns).toEqual(expect.arrayContaining(['.secbuild', 'node_modules', '.git', '.npmrc']));
  });
});

describe('examples/ci is a complete project', () => {
  test('the Dockerfile mounts secret npmrc for npm ci; the lock is examples/npm-private\'s (the e2e registry serves it)', () => {
    expect(read('Dockerfile')).toMatch(/^RUN --mount=type=secret,id=npmrc,target=\/root\/\.npmrc \\\n {4}npm ci /m);
    const lock = (dir: string) => (JSON.parse(readFileSync(join(ROOT, 'examples', dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> }).packages;
    expect(lock('ci')['node_modules/@acme/greeter']).toEqual(lock('npm-private')['node_modules/@acme/greeter']);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.scripts.image).toBe('secbuild -t my-app .');
    expect(pkg.dependencies).toEqual({ '@acme/greeter': '^1.2.0' });
  });
});

describe('examples/ci: BuildKit, masking, and the host-side npm ci through secbuild exec', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  test('github-actions.yml: buildx (driver docker) is set up before secbuild runs; exec -- npm ci has NPM_TOKEN and runs before the image', () => {
    const steps = githubSteps();
    const buildx = steps.findIndex((s) => s.uses === 'docker/setup-buildx-action@v3');
    expect(steps[buildx]!.with).toEqual({ driver: 'docker' });
    const exec = steps.findIndex((s) => s.run?.startsWith('secbuild exec -- npm ci'));
    const image = steps.findIndex((s) => s.run === 'npm run image');
    expect(buildx).toBeGreaterThan(0);
    expect(buildx).toBeLessThan(exec);
    expect(exec).toBeLessThan(image);
    for (const i of [exec, image]) expect(steps[i]!.env).toEqual({ NPM_TOKEN: '${{ secrets.NPM_TOKEN }}' });
    // The comments say what the runner is told: every form, before docker prints, in a group.
    expect(read('github-actions.yml')).toMatch(/`::add-mask::` for every form of\n# every value before docker prints/);
  });

  test('gitlab-ci.yml: the script runs secbuild exec -- npm ci first, then the image', () => {
    expect(gitlabJob().script).toEqual(['secbuild exec -- npm ci --no-audit --no-fund', 'npm run image']);
  });

  test('the command, from examples/ci with its secbuild.yml: --dry-run names the .npmrc in NPM_CONFIG_USERCONFIG and no token', async () => {
    const token = `npm-${nonce()}`;
    const r = await runCli(['exec', '--dry-run', '--', 'npm', 'ci', '--no-audit', '--no-fund'], { env: noDockerEnv(box, { NPM_TOKEN: token }), cwd: CI_EXAMPLE });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}NPM_CONFIG_USERCONFIG=\S+\/npmrc$/m);
    expect(r.stdout).toContain('command: npm ci --no-audit --no-fund\n');
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(listDir(box.tmp)).toEqual([]);
  });
});

describe('README shows the CI recipes as shipped', () => {
  test.each([
    ['GitHub Actions', 'github-actions.yml'],
    ['GitLab CI', 'gitlab-ci.yml'],
  ])('the ```yaml block under "### %s" is examples/ci/%s byte for byte', (heading, file) => {
    expect(readmeYamlBlock(heading), `README.md has no \`### ${heading}\` heading with a \`\`\`yaml block`).toBe(read(file));
  });
});
