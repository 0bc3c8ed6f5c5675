/**
 * `secbuild compose build`, end to end.
 *
 * Direct engine (no Compose v2 on this machine): the built CLI against the real
 * daemon — the example project, a two-file project with interpolation and every
 * secret source, a missing grant, an unsupported key, a failing build, SIGINT
 * and SIGKILL mid-build; the private secret root is checked empty after each.
 *
 * Compose engine: Compose v2 cannot be installed here, so a `docker` stand-in
 * on PATH records its argv and environment and copies the override file and
 * every secret file it references at the moment it runs. Those tests cover
 * argv and files only, as their names say.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { BASE, baseEnv, containsBytes, docker, e2e, listDir, nonce, pidsMatching, ROOT, runCli, sandbox, startCli, waitFor } from './helpers.js';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const ID = nonce();
const V = {
  gh: `gh-${ID}-token`,
  npm: `npm-${ID}-token`,
  pipUser: `user-${ID}`,
  pipPass: `pw ${ID}/x`,
  fileTok: `file-${ID}-value`,
  envTok: `env-${ID}-value`,
  tok: `tok-${ID}-value`,
};
const VALUES = Object.values(V);

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-compose-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const noValue = (out: string) => VALUES.filter((v) => out.includes(v));

/** The two-service project: compose.yaml + compose.ci.yaml, .env, a template, compose-level file:/environment: secrets. */
const PROJECT = {
  '.env': `BASE_IMAGE=${BASE}\nRUN_ID=${ID}\n`,
  'compose.yaml': [
    'name: secbuild-e2e-${RUN_ID:?RUN_ID comes from .env}',
    'services:',
    '  api:',
    '    build:',
    '      context: api',
    '      args: { BASE: "${BASE_IMAGE}" }',
    '      secrets: [netrc]',
    '  web:',
    '    build:',
    '      context: ./web',
    '      args:',
    '        BASE: ${BASE_IMAGE:-missing}',
    '        GREETING: "$${NOT_INTERPOLATED}"',
    '      secrets: [npmrc]',
    '    depends_on: [api]',
    'secrets:',
    '  file_tok: { file: ./tok.txt }',
    '  env_tok: { environment: E2E_COMPOSE_ENV_TOKEN }',
    '',
  ].join('\n'),
  'compose.ci.yaml': [
    'services:',
    '  web:',
    '    build:',
    '      target: final',
    '      args: ["GREETING=$${NOT_INTERPOLATED} from ci"]',
    '      secrets:',
    '        - pip_conf',
    '        - { source: file_tok, target: filetok }',
    '        - env_tok',
    '',
  ].join('\n'),
  'secbuild.yml': [
    'secrets:',
    '  pip_user: { from: env:E2E_PIP_USER }',
    '  pip_pass: { from: env:E2E_PIP_PASS }',
    '  pip_conf: { template: ./pip.conf.tmpl }',
    '',
  ].join('\n'),
  'pip.conf.tmpl': '[global]\nindex-url = https://${pip_user|url}:${pip_pass|url}@pypi.example/simple/\n',
  'tok.txt': V.fileTok,
  // ${ID} in each RUN: BuildKit's cache key does not cover secret contents.
  'api/Dockerfile': `ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=netrc,target=/root/.netrc echo ${ID} >/dev/null && sha256sum /root/.netrc > /hashes\n`,
  'web/Dockerfile': [
    'ARG BASE',
    'FROM $BASE AS final',
    'ARG GREETING',
    'RUN --mount=type=secret,id=npmrc --mount=type=secret,id=pip_conf --mount=type=secret,id=filetok --mount=type=secret,id=env_tok \\',
    `    echo ${ID} >/dev/null && sha256sum /run/secrets/npmrc /run/secrets/pip_conf /run/secrets/filetok /run/secrets/env_tok > /hashes && echo "$GREETING" > /greeting`,
    '',
  ].join('\n'),
};
const FLAGS = [
  '--netrc', 'machine=github.com,login=x-access-token,password=env:E2E_GH',
  '--npmrc', 'registry=https://npm.pkg.github.com/,token=env:E2E_NPM,scope=@acme',
];
const SECRET_ENV = { E2E_GH: V.gh, E2E_NPM: V.npm, E2E_PIP_USER: V.pipUser, E2E_PIP_PASS: V.pipPass, E2E_COMPOSE_ENV_TOKEN: V.envTok, E2E_TOKEN: V.tok };
const NETRC = `machine github.com\n  login x-access-token\n  password ${V.gh}\n`;
const NPMRC = `@acme:registry=https://npm.pkg.github.com/\n//npm.pkg.github.com/:_authToken=${V.npm}\n`;
const PIP = `[global]\nindex-url = https://${V.pipUser}:${encodeURIComponent(V.pipPass)}@pypi.example/simple/\n`;

describe.skipIf(e2e.skip)('compose build, direct engine', () => {
  const box = sandbox();
  const env = baseEnv(box, SECRET_ENV);
  const proj = tree(PROJECT);
  const images: string[] = [];
  afterAll(async () => {
    await docker(['rmi', '-f', ...images, 'secbuild-example-api', 'secbuild-example-web']);
    rmSync(proj, { recursive: true, force: true });
    box.cleanup();
  });

  test('examples/compose builds as its README says (both services, no value printed), with a --report', async () => {
    const reportFile = join(box.dir, 'compose-report.json');
    const r = await runCli(['compose', 'build', '--progress=plain', '--no-cache', '--report', reportFile], {
      env: baseEnv(box, { GITHUB_TOKEN: V.gh, NPM_TOKEN: V.npm, SENTRY_AUTH_TOKEN: V.tok, BASE_IMAGE: BASE }),
      cwd: join(ROOT, 'examples', 'compose'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/compose engine: direct \(the Compose v2 plugin is missing \(`docker compose version` failed/);
    expect(r.stderr).toContain('api: .netrc for github.com is mounted');
    expect(r.stderr).toContain('web: .npmrc and .sentryclirc are mounted');
    expect(noValue(r.stdout + r.stderr)).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
    const text = readFileSync(reportFile, 'utf8');
    expect(noValue(text)).toEqual([]);
    const rep = JSON.parse(text);
    expect(rep).toMatchObject({ command: 'compose', exitCode: 0, engine: { compose: 'direct', buildkit: 'legacy-env' }, masking: { enabled: true } });
    expect(rep.runs.map((x: { service: string; exitCode: number }) => [x.service, x.exitCode])).toEqual([['api', 0], ['web', 0]]);
    expect(rep.runs[1].argv.join(' ')).toMatch(/--secret id=npmrc,src=\S+ .*-t secbuild-example-web/);
    expect(rep.secrets.filter((x: { mounted: boolean }) => x.mounted).map((x: { id: string }) => x.id).sort()).toEqual(['netrc', 'npmrc', 'sentryclirc']);
    expect(rep.timings.map((t: { phase: string }) => t.phase)).toEqual(expect.arrayContaining(['start', 'preflight', 'resolve', 'files', 'docker']));
  });

  test('two -f files, .env and ${…} interpolation, every secret source: built in depends_on order, byte-exact, no value leaked', async () => {
    const r = await runCli(['compose', '-f', 'compose.yaml', '-f', 'compose.ci.yaml', 'build', '--progress=plain', ...FLAGS], { env, cwd: proj });
    const [api, web] = [`secbuild-e2e-${ID}-api`, `secbuild-e2e-${ID}-web`];
    images.push(api, web);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.indexOf('building service "api"')).toBeLessThan(r.stderr.indexOf('building service "web"'));
    expect(listDir(box.tmp)).toEqual([]);
    const hashes = async (image: string) =>
      Object.fromEntries((await docker(['run', '--rm', image, 'cat', '/hashes'])).stdout.toString().trim().split('\n').map((l) => l.split(/\s+/).reverse()));
    expect(await hashes(api)).toEqual({ '/root/.netrc': sha(NETRC) });
    expect(await hashes(web)).toEqual({
      '/run/secrets/npmrc': sha(NPMRC), '/run/secrets/pip_conf': sha(PIP), '/run/secrets/filetok': sha(V.fileTok), '/run/secrets/env_tok': sha(V.envTok),
    });
    expect((await docker(['run', '--rm', web, 'cat', '/greeting'])).stdout.toString()).toBe('${NOT_INTERPOLATED} from ci\n');
    const labels = JSON.parse((await docker(['inspect', '--format', '{{json .Config.Labels}}', web])).stdout.toString());
    expect(labels).toMatchObject({ 'com.docker.compose.project': `secbuild-e2e-${ID}`, 'com.docker.compose.service': 'web' });
    const saved = (await docker(['save', web])).stdout;
    for (const v of VALUES) expect(containsBytes(saved, Buffer.from(v)), `image holds ${v.slice(0, 6)}…`).toBe(false);
    expect(noValue(r.stdout + r.stderr)).toEqual([]);
  });

  test('doctor names the direct engine and why', async () => {
    const r = await runCli(['doctor'], { env });
    expect(r.stdout).toMatch(/^ok {4}compose engine: direct: the Compose v2 plugin is missing \(`docker compose version` failed: .*\); secbuild compose build reads the compose files itself and runs one docker build per service$/m);
  });

  test('--dry-run prints the plan and one docker build per service, paths only', async () => {
    const r = await runCli(['compose', '-f', 'compose.yaml', '-f', 'compose.ci.yaml', 'build', '--dry-run', ...FLAGS], { env, cwd: proj });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`project "secbuild-e2e-${ID}" (compose.yaml + compose.ci.yaml), engine direct`);
    expect(r.stdout).toContain(`  service web: context ${proj}/web, Dockerfile ${proj}/web/Dockerfile, target final, tag secbuild-e2e-${ID}-web, secrets npmrc, pip_conf, filetok (from file_tok), env_tok`);
    expect(r.stdout).toMatch(new RegExp(`build --secret id=npmrc,src=${box.tmp}/secbuild-\\d+-XXXXXX/\\d\\d-npmrc --secret id=pip_conf,src=\\S+ --secret id=filetok,src=\\S+-file_tok --secret id=env_tok`));
    expect(noValue(r.stdout + r.stderr)).toEqual([]);
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
    afterAll(() => rmSync(bad, { recursive: true, force: true }));

    test.each<[string, string[], RegExp]>([
      ['a missing grant', ['build', 'ungranted'], /service "ungranted": \S+\/ungranted\/Dockerfile:3: RUN mounts secret "npmrc", which services.ungranted.build.secrets in compose.yaml does not grant; BuildKit would mount nothing and go on. Add "- npmrc" under services.ungranted.build.secrets./],
      ['an unsupported build key', ['build', 'unsupported'], /compose.yaml: services.unsupported.build.platforms is not supported by the direct engine .*\nRemove it, or build with Compose v2: install the docker compose plugin/],
      ['a required variable', ['-f', 'required.yaml', 'build'], /required.yaml: services.required.image: required variable E2E_NEEDED is missing a value: set E2E_NEEDED first/],
    ])('%s', async (_name, args, message) => {
      const r = await runCli(['compose', ...args, ...FLAGS], { env: baseEnv(box, { ...SECRET_ENV, BASE_IMAGE: BASE }), cwd: bad });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/#\d+ /); // docker never ran
      expect(listDir(box.tmp)).toEqual([]);
    });
  });

  test('a failing build: docker\'s exit code, output masked, the earlier image kept, the later service not built, files removed', async () => {
    const p = `secbuild-e2e-fail-${ID}`;
    const dir = tree({
      'compose.yaml': ['services:', '  a: { build: a }', '  b: { build: { context: b, secrets: [tok] } }', '  c: { build: a }', ''].join('\n'),
      'a/Dockerfile': `FROM ${BASE}\nRUN echo a-${ID} > /a\n`,
      // b prints its secret (masked by secbuild: output is not a terminal) and fails.
      'b/Dockerfile': `FROM ${BASE}\nRUN --mount=type=secret,id=tok echo "b saw $(cat /run/secrets/tok)" && test ! -s /run/secrets/tok\n`,
    });
    images.push(`${p}-a`, `${p}-b`, `${p}-c`);
    try {
      const r = await runCli(['compose', '-p', p, 'build', '--progress=plain', '--secret', 'id=tok,from=env:E2E_TOKEN'], { env, cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/b saw \*{3}/);
      expect(noValue(r.stdout + r.stderr)).toEqual([]);
      expect(r.stderr).toContain('service "b" failed (docker exit 1); built: a; not built: c.');
      expect((await docker(['image', 'inspect', `${p}-a`])).code).toBe(0);
      expect((await docker(['image', 'inspect', `${p}-c`])).code).not.toBe(0);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([['SIGINT', 130], ['SIGKILL', null]] as const)('%s mid-build: the files and the build are gone', async (signal, code) => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const dir = tree({
      'compose.yaml': 'services:\n  slow: { build: { context: ., secrets: [tok] } }\n',
      'Dockerfile': `FROM ${BASE}\nRUN --mount=type=secret,id=tok sleep 3${marker}\n`,
    });
    try {
      const run = startCli(['compose', '-p', `secbuild-e2e-slow-${ID}`, 'build', '--no-cache', '--secret', 'id=tok,from=env:E2E_TOKEN'], { env, cwd: dir });
      await waitFor('the RUN to start', () => pidsMatching(`sleep 3${marker}`).length > 0, 60_000);
      expect(listDir(box.tmp).length).toBe(1);
      run.child.kill(signal);
      const r = await run.done;
      if (code !== null) expect(r.code).toBe(code);
      await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
      await waitFor('the RUN to stop', () => pidsMatching(`sleep 3${marker}`).length === 0, 15_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A docker stand-in that records argv, env and the files it is pointed at, then behaves as FAKE_MODE says. */
const FAKE_DOCKER = `#!/bin/sh
# Fake docker for secbuild's compose-engine tests: records argv and files only.
if [ "$1" = compose ] && [ "$2" = version ]; then echo "Docker Compose version v\${FAKE_COMPOSE_VERSION:-2.29.1}"; exit 0; fi
[ "$1" = compose ] && [ -n "$FAKE_RECORD" ] || { echo "fake docker: only compose" >&2; exit 1; }
rec=$FAKE_RECORD; mkdir -p "$rec/files"
printf '%s\\n' "$@" > "$rec/argv"
env > "$rec/env"
prev=; override=
for a in "$@"; do [ "$prev" = -f ] && override=$a; prev=$a; done
cp "$override" "$rec/override"
ls -l "$override" > "$rec/override.ls"
grep -o '"file": "[^"]*"' "$override" | sed 's/^"file": "//; s/"$//' | while read -r p; do cp "$p" "$rec/files/$(basename "$p")"; done
case $FAKE_MODE in
  fail) exit 17 ;;
  print) for f in "$rec"/files/*; do echo "compose saw $(cat "$f")"; done ;;
  sleep) trap 'kill $! 2>/dev/null; echo INT > "$rec/signal"; exit 130' INT; trap 'kill $! 2>/dev/null; exit 143' TERM; sleep "$FAKE_SLEEP" & wait $! ;;
esac
exit 0
`;

describe.skipIf(e2e.skip)('compose build, compose engine (argv and files only)', () => {
  const box = sandbox();
  const proj = tree(PROJECT);
  const bin = join(box.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'docker'), FAKE_DOCKER);
  chmodSync(join(bin, 'docker'), 0o755);
  let runs = 0;
  const setup = (extra: NodeJS.ProcessEnv = {}) => {
    const rec = join(box.dir, `rec-${runs++}`);
    const env = { ...baseEnv(box, { ...SECRET_ENV, FAKE_RECORD: rec, PATH: `${bin}:${process.env.PATH}`, ...extra }) };
    delete env.SECBUILD_DOCKER;
    return { rec, env, read: (f: string) => readFileSync(join(rec, f), 'utf8') };
  };
  afterAll(() => {
    rmSync(proj, { recursive: true, force: true });
    box.cleanup();
  });

  test('(argv and files only) the override points each granted secret at its file; argv, files and cleanup', async () => {
    const { rec, env, read } = setup();
    const r = await runCli(['compose', '-f', 'compose.yaml', '-f', 'compose.ci.yaml', '--profile', 'x', 'build', '--no-cache', ...FLAGS, 'web'], { env, cwd: proj });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/compose engine: compose \(Compose v2.29.1 answers `docker compose`\)/);
    const argv = read('argv').trimEnd().split('\n');
    const override = argv[argv.indexOf('build') - 1]!;
    expect(override).toMatch(new RegExp(`^${box.tmp}/secbuild-\\d+-[A-Za-z0-9]{6}/00-compose-override$`));
    expect(argv).toEqual(['compose', '--profile', 'x', '-f', `${proj}/compose.yaml`, '-f', `${proj}/compose.ci.yaml`, '-f', override, 'build', '--no-cache', 'web']);
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
    expect(noValue(r.stdout + r.stderr + read('argv'))).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('(argv and files only) a compose secret secbuild also defines is replaced with !override; older Compose is refused', async () => {
    const { env, read } = setup();
    const args = ['compose', 'build', '--secret', 'id=env_tok,from=env:E2E_TOKEN', 'web'];
    const dir = tree({
      ...PROJECT,
      'compose.yaml': PROJECT['compose.yaml'].replace('secrets: [npmrc]', 'secrets: [env_tok]'),
      'web/Dockerfile': `FROM ${BASE}\nRUN --mount=type=secret,id=env_tok true\n`,
    });
    try {
      const r = await runCli(args, { env, cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('compose.yaml: secrets.env_tok (environment: E2E_COMPOSE_ENV_TOKEN) is replaced for the build by secbuild\'s secret "env_tok" from --secret id=env_tok,from=env:E2E_TOKEN.');
      expect(read('override')).toMatch(/^ {4}"env_tok": !override \{\n {6}"file": "\S+\/00-env_tok"\n {4}\}$/m);
      const old = await runCli(args, { env: { ...env, FAKE_COMPOSE_VERSION: '2.20.3' }, cwd: dir });
      expect(old.code).toBe(2);
      expect(old.stderr).toContain('Compose v2.20.3 cannot replace secrets.env_tok from an override file (the !override tag needs Compose 2.24.4 or later); update Compose, or run with --engine direct.');
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('(argv and files only) doctor names the compose engine and why', async () => {
    const { env } = setup();
    const r = await runCli(['doctor'], { env });
    expect(r.stdout).toMatch(/^ok {4}compose engine: compose: Compose v2\.29\.1 answers `docker compose`, so secbuild compose build runs it with a one-off override file$/m);
  });

  test('(argv and files only) what compose prints is masked, and counted in the --report', async () => {
    const { env } = setup({ FAKE_MODE: 'print' });
    const reportFile = join(box.dir, 'compose-engine-report.json');
    const r = await runCli(['compose', 'build', ...FLAGS, '--report', reportFile, 'api'], { env, cwd: proj });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('compose saw machine github.com');
    expect(r.stdout).toMatch(/password \*{3}/);
    expect(noValue(r.stdout + r.stderr)).toEqual([]);
    const text = readFileSync(reportFile, 'utf8');
    expect(noValue(text)).toEqual([]);
    const rep = JSON.parse(text);
    expect(rep.engine.compose).toBe('compose');
    expect(rep.runs).toHaveLength(1);
    expect(rep.runs[0].argv.slice(1, 2)).toEqual(['compose']);
    expect(Object.values(rep.masking.occurrences as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  test('(argv and files only) compose exits 17: the code is passed through, files removed', async () => {
    const { env } = setup({ FAKE_MODE: 'fail' });
    const r = await runCli(['compose', 'build', ...FLAGS, 'api'], { env, cwd: proj });
    expect(r.code).toBe(17);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.each([['SIGINT', 130], ['SIGTERM', 143], ['SIGKILL', null]] as const)('(argv and files only) %s while compose runs: files removed, compose stopped', async (signal, code) => {
    const sleep = `3${Math.floor(Math.random() * 9000) + 1000}`;
    const { rec, env } = setup({ FAKE_MODE: 'sleep', FAKE_SLEEP: sleep });
    const run = startCli(['compose', 'build', ...FLAGS, 'api'], { env, cwd: proj });
    await waitFor('compose to start', () => listDir(rec).includes('override.ls') && pidsMatching(`sleep ${sleep}`).length > 0, 30_000);
    expect(listDir(box.tmp).length).toBe(1);
    run.child.kill(signal);
    const r = await run.done;
    if (code !== null) expect(r.code).toBe(code);
    if (signal === 'SIGINT') expect(readFileSync(join(rec, 'signal'), 'utf8')).toBe('INT\n');
    await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
    await waitFor('compose to stop', () => pidsMatching(`sleep ${sleep}`).length === 0, 5_000);
  });
});
