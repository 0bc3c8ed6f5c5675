/**
 * `secbuild compose build` without a daemon: the docker stand-in
 * (test/helpers/fake-docker.ts) answers `docker compose version` and records
 * argv and files at the moment it runs. Direct engine (the stand-in says
 * there is no Compose v2): --dry-run and the errors that stop a run before
 * docker. Compose engine: the override file, its secret files and argv.
 * Builds, masking, exit codes and signals are in test/e2e/compose.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { BASE, listDir, runCli, sandbox, tree } from '../helpers/cli.js';
import { FLAGS, ID, leakedValues, NPMRC, PIP, PROJECT, SECRET_ENV, V } from '../helpers/compose-project.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('compose build, direct engine (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = tree(PROJECT);
  const noCompose = (extra: NodeJS.ProcessEnv = {}) => fake.record({ ...SECRET_ENV, FAKE_COMPOSE_VERSION: 'none', ...extra });
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });

  test('--dry-run prints the plan and one docker build per service, paths only', async () => {
    const { env, runs } = noCompose();
    const r = await runCli(['compose', '-f', 'compose.yaml', '-f', 'compose.ci.yaml', 'build', '--dry-run', ...FLAGS], { env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`project "secbuild-e2e-${ID}" (compose.yaml + compose.ci.yaml), engine direct`);
    expect(r.stdout).toContain(`  service web: context ${proj.dir}/web, Dockerfile ${proj.dir}/web/Dockerfile, target final, tag secbuild-e2e-${ID}-web, secrets npmrc, pip_conf, filetok (from file_tok), env_tok`);
    expect(r.stdout).toMatch(new RegExp(`build --secret id=npmrc,src=${box.tmp}/secbuild-\\d+-XXXXXX/\\d\\d-npmrc --secret id=pip_conf,src=\\S+ --secret id=filetok,src=\\S+-file_tok --secret id=env_tok`));
    expect(leakedValues(r.stdout + r.stderr)).toEqual([]);
    expect(runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  describe('errors stop before docker runs (exit 2)', () => {
    const bad = tree({
      'compose.yaml': [
        'services:',
        '  ungranted: { build: { context: ungranted, args: { BASE: "${BASE_IMAGE}" } } }',
        '  unsupported: { build: { context: ungranted, platforms: [linux/arm64] } }',
        '',
      ].join('\n'),
      'required.yaml': 'services:\n  required: { build: ., image: "x-${E2E_NEEDED:?set E2E_NEEDED first}" }\n',
      'ungranted/Dockerfile': 'ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=npmrc true\n',
    });
    afterAll(() => bad.cleanup());

    test.each<[string, string[], RegExp]>([
      ['a missing grant', ['build', 'ungranted'], /service "ungranted": \S+\/ungranted\/Dockerfile:3: RUN mounts secret "npmrc", which services.ungranted.build.secrets in compose.yaml does not grant; BuildKit would mount nothing and go on. Add "- npmrc" under services.ungranted.build.secrets./],
      ['an unsupported build key', ['build', 'unsupported'], /compose.yaml: services.unsupported.build.platforms is not supported by the direct engine .*\nRemove it, or build with Compose v2: install the docker compose plugin/],
      ['a required variable', ['-f', 'required.yaml', 'build'], /required.yaml: services.required.image: required variable E2E_NEEDED is missing a value: set E2E_NEEDED first/],
    ])('%s', async (_name, args, message) => {
      const { env, runs } = noCompose({ BASE_IMAGE: BASE });
      const r = await runCli(['compose', ...args, ...FLAGS], { env, cwd: bad.dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(runs()).toEqual([]);
      expect(listDir(box.tmp)).toEqual([]);
    });
  });
});

describe('compose build, compose engine (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = tree(PROJECT);
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });

  test('the override points each granted secret at its file; argv, files and cleanup', async () => {
    const { rec, env, read } = fake.record(SECRET_ENV);
    const r = await runCli(['compose', '-f', 'compose.yaml', '-f', 'compose.ci.yaml', '--profile', 'x', 'build', '--no-cache', ...FLAGS, 'web'], { env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/compose engine: compose \(Compose v2.29.1 answers `docker compose`\)/);
    const argv = read('argv').trimEnd().split('\n');
    const override = argv[argv.indexOf('build') - 1]!;
    expect(override).toMatch(new RegExp(`^${box.tmp}/secbuild-\\d+-[A-Za-z0-9]{6}/00-compose-override$`));
    expect(argv).toEqual(['compose', '--profile', 'x', '-f', `${proj.dir}/compose.yaml`, '-f', `${proj.dir}/compose.ci.yaml`, '-f', override, 'build', '--no-cache', 'web']);
    expect(read('override.ls')).toMatch(/^-rw------- /);
    const dir = override.slice(0, override.lastIndexOf('/'));
    // env_tok's compose definition has environment:, so it is replaced, not merged (the !override tag).
    expect(read('override')).toMatch(/^ {4}"env_tok": !override \{$/m);
    const secrets = (parse(read('override'), { logLevel: 'error' }) as { secrets: Record<string, { file: string }> }).secrets;
    expect(Object.keys(secrets)).toEqual(['npmrc', 'pip_conf', 'file_tok', 'env_tok']);
    const copied = Object.fromEntries(Object.entries(secrets).map(([name, { file }]) => {
      expect(file).toMatch(new RegExp(`^${dir}/\\d\\d-${name}$`));
      return [name, readFileSync(join(rec, 'files', file.slice(dir.length + 1)), 'utf8')];
    }));
    expect(copied).toEqual({ npmrc: NPMRC, pip_conf: PIP, file_tok: V.fileTok, env_tok: V.envTok });
    // Variables secrets are read from never reach Compose's environment.
    expect(read('env')).not.toMatch(/^(E2E_NPM|E2E_PIP_USER|E2E_PIP_PASS|E2E_COMPOSE_ENV_TOKEN|E2E_GH)=/m);
    expect(read('env')).toMatch(/^DOCKER_BUILDKIT=1$/m);
    expect(leakedValues(r.stdout + r.stderr + read('argv'))).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a compose secret secbuild also defines is replaced with !override; older Compose is refused', async () => {
    const { env, read } = fake.record(SECRET_ENV);
    const args = ['compose', 'build', '--secret', 'id=env_tok,from=env:E2E_TOKEN', 'web'];
    const dir = tree({
      ...PROJECT,
      'compose.yaml': PROJECT['compose.yaml'].replace('secrets: [npmrc]', 'secrets: [env_tok]'),
      'web/Dockerfile': `FROM ${BASE}\nRUN --mount=type=secret,id=env_tok true\n`,
    });
    try {
      const r = await runCli(args, { env, cwd: dir.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('compose.yaml: secrets.env_tok (environment: E2E_COMPOSE_ENV_TOKEN) is replaced for the build by secbuild\'s secret "env_tok" from --secret id=env_tok,from=env:E2E_TOKEN.');
      expect(read('override')).toMatch(/^ {4}"env_tok": !override \{\n {6}"file": "\S+\/00-env_tok"\n {4}\}$/m);
      const old = fake.record({ ...SECRET_ENV, FAKE_COMPOSE_VERSION: '2.20.3' });
      const refused = await runCli(args, { env: old.env, cwd: dir.dir });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('Compose v2.20.3 cannot replace secrets.env_tok from an override file (the !override tag needs Compose 2.24.4 or later); update Compose, or run with --engine direct.');
      expect(old.runs()).toEqual([]);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      dir.cleanup();
    }
  });
});

describe('doctor names the compose engine and why (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  afterAll(() => box.cleanup());

  test.each([
    ['2.29.1', /^ok {4}compose engine: compose: Compose v2\.29\.1 answers `docker compose`, so secbuild compose build runs it with a one-off override file$/m],
    ['none', /^ok {4}compose engine: direct: the Compose v2 plugin is missing \(`docker compose version` failed: .*\); secbuild compose build reads the compose files itself and runs one docker build per service$/m],
  ])('Compose %s', async (version, line) => {
    const { env } = fake.record({ FAKE_COMPOSE_VERSION: version });
    const r = await runCli(['doctor'], { env });
    expect(r.stdout).toMatch(line);
  });
});
