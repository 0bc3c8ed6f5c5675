/**
 * Secrets built from other secrets — the `.netrc`, `.npmrc` and template
 * files of secbuild.yml — in messages (issue 24). With their 3 tokens unset a
 * build said "6 secrets could not be resolved": it counted the files built
 * from them too. It now counts the roots and mentions the derived. And
 * `secbuild secrets` named each token "template input, not mounted",
 * whatever read it: it now names the file it feeds. No build runs: the
 * builds' docker is test/helpers/fake-docker.ts, for its version probes only
 * (checked: no build recorded); `secrets` needs none (noDockerEnv).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { noDockerEnv, runCli, sandbox, tree } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('secrets built from other secrets', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const project = tree({
    'secbuild.yml': [
      'secrets:',
      '  gh_token:  { from: env:DS_GH_TOKEN }',
      '  npm_token: { from: env:DS_NPM_TOKEN }',
      '  pip_pass:  { from: env:DS_PIP_PASS }',
      '  pip_conf:  { template: ./pip.conf.tmpl }',
      'netrc:',
      '  - { machine: github.com, login: x-access-token, password: gh_token }',
      'npmrc:',
      '  - { registry: "https://npm.pkg.github.com/", token: npm_token, scope: "@acme" }',
      '',
    ].join('\n'),
    'pip.conf.tmpl': '[global]\nindex-url = https://u:${pip_pass|url}@pypi.example.com/simple\n',
    Dockerfile: 'FROM scratch\nRUN --mount=type=secret,id=netrc,target=/root/.netrc --mount=type=secret,id=npmrc,target=/root/.npmrc --mount=type=secret,id=pip_conf true\n',
  });
  afterAll(() => {
    project.cleanup();
    box.cleanup();
  });
  const values = { DS_GH_TOKEN: 'ghp_derived_1234', DS_NPM_TOKEN: 'npm_derived_5678', DS_PIP_PASS: 'pip_derived_9012' };

  test('build with the 3 tokens unset: "3 secrets could not be resolved (3 more are built from them)", all 6 listed (docker stand-in: no build recorded)', async () => {
    const rec = fake.record();
    const r = await runCli(['--dry-run', '-t', 'x', '.'], { env: rec.env, cwd: project.dir });
    expect(rec.runs()).toEqual([]);
    expect(r.code, r.stderr).toBe(3);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('secbuild: 3 secrets could not be resolved (3 more are built from them):');
    expect(lines.slice(1).map((l) => l.match(/^ {2}- "([^"]+)"/)?.[1])).toEqual(['gh_token', 'npm_token', 'pip_pass', 'pip_conf', 'netrc', 'npmrc']);
  });

  test('one token unset: "1 secret could not be resolved (1 more is built from it)" (docker stand-in: no build recorded)', async () => {
    const rec = fake.record({ DS_NPM_TOKEN: values.DS_NPM_TOKEN, DS_PIP_PASS: values.DS_PIP_PASS });
    const r = await runCli(['--dry-run', '-t', 'x', '.'], { env: rec.env, cwd: project.dir });
    expect(rec.runs()).toEqual([]);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr.split('\n')[0]).toBe('secbuild: 1 secret could not be resolved (1 more is built from it):');
  });

  test('secrets: each input names the file it feeds, not "template input"', async () => {
    const r = await runCli(['secrets'], { env: noDockerEnv(box, values), cwd: project.dir });
    expect(r.code, r.stderr).toBe(0);
    const note = (id: string) => r.stdout.split('\n').find((l) => l.startsWith(`${id} `))?.replace(/^.*stable\s+/, '');
    expect(note('gh_token')).toBe('input of the .netrc file, not mounted');
    expect(note('npm_token')).toBe('input of the .npmrc file, not mounted');
    expect(note('pip_pass')).toBe('input of template pip_conf, not mounted');
    expect(r.stdout).not.toMatch(/template input/);
    for (const v of Object.values(values)) expect(r.stdout + r.stderr).not.toContain(v);
  });
});
