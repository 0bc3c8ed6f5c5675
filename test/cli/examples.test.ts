/**
 * The credential-file projects under examples/ work as their READMEs say, up
 * to the docker call: run from their own directory (so their secbuild.yml is
 * used), they resolve, pass preflight and --dry-run prints a docker command
 * that mounts exactly their one rendered file, never a value. hello's real
 * build is in test/e2e/examples.test.ts.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BASE, listDir, nonce, ROOT, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('examples --dry-run (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  afterAll(() => box.cleanup());

  test.each([
    { example: 'git-netrc', id: 'netrc', env: { GITHUB_TOKEN: `gh-${nonce()}` } },
    { example: 'npm-private', id: 'npmrc', env: { NPM_TOKEN: `npm-${nonce()}` } },
    { example: 'ci', id: 'npmrc', env: { NPM_TOKEN: `npm-${nonce()}` } },
    { example: 'pip-template', id: 'pip_conf', env: { PYPI_INDEX_USER: `user-${nonce()}`, PYPI_INDEX_PASSWORD: `pw-${nonce()}`, PYPI_INDEX_HOST: `pypi-${nonce()}.example.com` } },
  ])('$example: --dry-run from its directory mounts only secret "$id" and prints no value', async ({ example, id, env }) => {
    const rec = fake.record(env);
    const r = await runCli(['--dry-run', '--build-arg', `BASE=${BASE}`, '-t', `secbuild-cli/examples:${example}`, '.'], {
      env: rec.env,
      cwd: join(ROOT, 'examples', example),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(` --secret id=${id},src=`);
    // The tokens are inputs to the rendered file, not secrets of their own.
    expect(r.stdout.match(/--secret /g)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/warning/i);
    for (const value of Object.values(env)) expect(r.stdout + r.stderr).not.toContain(value);
    expect(rec.runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });
});
