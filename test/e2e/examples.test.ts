/**
 * The projects under examples/ work as their READMEs say: hello builds for real
 * and prints only the secret's length; the credential-file examples, run from
 * their own directory so their secbuild.yml is used, resolve, pass preflight and
 * print a docker command that mounts exactly their one rendered file, never a value.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BASE, baseEnv, docker, e2e, listDir, nonce, ROOT, runCli, sandbox } from './helpers.js';

const TAG = 'secbuild-e2e/examples:hello';

describe.skipIf(e2e.skip)('examples', () => {
  const box = sandbox();
  afterAll(async () => {
    await docker(['rmi', '-f', TAG]);
    box.cleanup();
  });

  test('hello: builds, prints the greeting\'s byte length and never its value, leaves the secret root empty', async () => {
    const value = `hello-${nonce()}`;
    const r = await runCli(
      ['--secret', 'id=greeting,from=env:HELLO_TOKEN', '--build-arg', `BASE=${BASE}`, '--progress=plain', '--no-cache', '-t', TAG, 'examples/hello'],
      { env: baseEnv(box, { HELLO_TOKEN: value }), cwd: ROOT },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`greeting is ${Buffer.byteLength(value)} bytes`);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.each([
    { example: 'git-netrc', id: 'netrc', env: { GITHUB_TOKEN: `gh-${nonce()}` } },
    { example: 'npm-private', id: 'npmrc', env: { NPM_TOKEN: `npm-${nonce()}` } },
    { example: 'pip-template', id: 'pip_conf', env: { PYPI_INDEX_USER: `user-${nonce()}`, PYPI_INDEX_PASSWORD: `pw-${nonce()}` } },
  ])('$example: --dry-run from its directory mounts only secret "$id" and prints no value', async ({ example, id, env }) => {
    const r = await runCli(['--dry-run', '--build-arg', `BASE=${BASE}`, '-t', `secbuild-e2e/examples:${example}`, '.'], {
      env: baseEnv(box, env),
      cwd: join(ROOT, 'examples', example),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(` --secret id=${id},src=`);
    // The tokens are inputs to the rendered file, not secrets of their own.
    expect(r.stdout.match(/--secret /g)).toHaveLength(1);
    expect(r.stderr).not.toMatch(/warning/i);
    for (const value of Object.values(env)) expect(r.stdout + r.stderr).not.toContain(value);
    expect(listDir(box.tmp)).toEqual([]);
  });
});
