/**
 * examples/ci (issue 11 item 7): the CI jobs install secbuild from a checkout
 * of its repository, never from the npm registry (where secbuild@0.1.0 is a
 * 404 until it is published), as the README's "Install" does: the tarball
 * `npm pack` makes there (test/cli/install.test.ts runs that install); and (issue 16) they run the host-side `npm ci`
 * through `secbuild exec` with the example's own secbuild.yml, whose dry run
 * names the .npmrc in NPM_CONFIG_USERCONFIG and prints no token. Read from
 * the files as shipped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { listDir, noDockerEnv, nonce, ROOT, runCli, sandbox } from '../helpers/cli.js';

describe('examples/ci install secbuild from a checkout', () => {
  test.each([
    ['github-actions.yml', /npm pack \.\/\.secbuild --pack-destination \.secbuild && npm install --global \.\/\.secbuild\/secbuild-\*\.tgz$/m],
    ['gitlab-ci.yml', /npm pack \/tmp\/secbuild --pack-destination \/tmp\/secbuild && npm install --global \/tmp\/secbuild\/secbuild-\*\.tgz$/m],
  ])('%s', async (file, install) => {
    const text = readFileSync(join(ROOT, 'examples', 'ci', file), 'utf8');
    const { parse } = await import('yaml');
    const steps = JSON.stringify(parse(text));
    expect(steps).not.toMatch(/npm (install|i) [^"]*\bsecbuild@/);
    expect(text).toMatch(install);
    expect(text).toMatch(/npm ci --prefix /);
  });
});

describe('examples/ci run the host-side npm ci through secbuild exec', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  test('github-actions.yml: a step runs secbuild exec -- npm ci with NPM_TOKEN, before the image', async () => {
    const { parse } = await import('yaml');
    const doc = parse(readFileSync(join(ROOT, 'examples', 'ci', 'github-actions.yml'), 'utf8')) as { jobs: { image: { steps: Array<{ run?: string; env?: Record<string, string> }> } } };
    const steps = doc.jobs.image.steps;
    const exec = steps.findIndex((s) => s.run?.startsWith('secbuild exec -- npm ci'));
    expect(exec).toBeGreaterThan(0);
    expect(steps[exec]!.env).toEqual({ NPM_TOKEN: '${{ secrets.NPM_TOKEN }}' });
    expect(exec).toBeLessThan(steps.findIndex((s) => s.run === 'npm run image'));
  });

  test('gitlab-ci.yml: the script runs secbuild exec -- npm ci before the image', async () => {
    const { parse } = await import('yaml');
    const doc = parse(readFileSync(join(ROOT, 'examples', 'ci', 'gitlab-ci.yml'), 'utf8')) as Record<string, { script?: string[] }>;
    const script = doc['build-image']!.script!;
    expect(script.findIndex((l) => l.startsWith('secbuild exec -- npm ci'))).toBe(0);
    expect(script).toContain('npm run image');
  });

  test('the command, from examples/ci with its secbuild.yml: --dry-run names the .npmrc in NPM_CONFIG_USERCONFIG and no token', async () => {
    const token = `npm-${nonce()}`;
    const r = await runCli(['exec', '--dry-run', '--', 'npm', 'ci', '--no-audit', '--no-fund'], { env: noDockerEnv(box, { NPM_TOKEN: token }), cwd: join(ROOT, 'examples', 'ci') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}NPM_CONFIG_USERCONFIG=\S+\/npmrc$/m);
    expect(r.stdout).toContain('command: npm ci --no-audit --no-fund\n');
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(listDir(box.tmp)).toEqual([]);
  });
});
