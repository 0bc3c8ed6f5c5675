/**
 * The messages a newcomer meets (issue 24): each names the input and the fix,
 * and says nothing wrong. Builds run against the docker stand-in (argv and
 * files only) or stop before any docker runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { onPath, skipUnlessCI } from '../helpers/ci.js';
import { listDir, noDockerEnv, runCli, sandbox, sh, tree } from '../helpers/cli.js';
import { fakeDocker, fakeDockerSuite } from '../helpers/fake-docker.js';

const DOCKERFILE = 'FROM $BASE\nRUN --mount=type=secret,id=api_token wc -c < /run/secrets/api_token\n';

describe('no daemon reachable (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite(DOCKERFILE);
  const noDaemon = join(box.dir, 'no-daemon.sock');
  const marker = join(box.dir, 'provider-ran');

  test.each<[string, string[]]>([
    ['build', ['-t', 'secbuild-messages-x', ctx.dir]],
    ['verify', ['verify', 'secbuild-messages-x']],
  ])('%s: exit 2 with one line naming DOCKER_HOST, before any provider runs', async (_, words) => {
    const { env, runs } = fake.record({ DOCKER_HOST: `unix://${noDaemon}` });
    const r = await runCli([...words.slice(0, words[0] === 'verify' ? 1 : 0), '--secret', `id=api_token,from=cmd:touch ${marker}`, ...words.slice(words[0] === 'verify' ? 1 : 0)], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`secbuild: no Docker daemon answers at unix://${noDaemon} (DOCKER_HOST): there is no socket at ${noDaemon}. Start the daemon (sudo systemctl start docker), or point DOCKER_HOST or DOCKER_CONTEXT at a running one; no secret was resolved.\n`);
    expect(existsSync(marker)).toBe(false);
    expect(runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--dry-run needs no daemon', async () => {
    const { env } = fake.record({ DOCKER_HOST: `unix://${noDaemon}`, TOK: 'abcdefgh' });
    const r = await runCli(['--dry-run', '--secret', 'id=api_token,from=env:TOK', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('a secret that is not there: the message names every place tried and the right verb (argv and files only)', () => {
  const { fake, ctx } = fakeDockerSuite(DOCKERFILE);
  const env = () => fake.record().env;

  test.each<[string, string, string]>([
    ['a missing file: create it, not "set it"', 'id=api_token,src=./nope.txt', 'secret "api_token" (file:./nope.txt): file $CWD/nope.txt does not exist. Create it or correct the path, or mark the secret optional.'],
    ['a variable not set: set it', 'id=api_token,env=NOPE_VAR', 'secret "api_token" (env:NOPE_VAR): environment variable NOPE_VAR is not set. Set it, or mark the secret optional.'],
    ['id= alone: the variable and the file it tried', 'id=api_token', 'secret "api_token" (env:api_token, else file:api_token): environment variable api_token is not set and file $CWD/api_token does not exist. Set the variable or create the file, or mark the secret optional.'],
    ['a command whose stderr ends in "?": no "?."', 'id=api_token,from=cmd:sh -c "echo Is the docker daemon running? >&2; exit 1"', 'secret "api_token" (cmd:sh -c "echo Is the docker daemon running? >&2; exit 1"): command "sh" exited with code 1; its stderr:\nIs the docker daemon running?'],
  ])('%s', async (_, spec, message) => {
    const r = await runCli(['--dry-run', '--secret', spec, ctx.dir], { env: env(), cwd: ctx.dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toBe(`secbuild: ${message.replaceAll('$CWD', ctx.dir)}\n`);
  });
});

describe('engine and context messages (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite(DOCKERFILE);

  test('SECBUILD_DOCKER= (empty) says so, not "docker is not on PATH"', async () => {
    const { env, runs } = fake.record({ SECBUILD_DOCKER: '', TOK: 'abcdefgh' });
    const r = await runCli(['--secret', 'id=api_token,from=env:TOK', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe('secbuild: SECBUILD_DOCKER is set but empty; unset it to use the docker on PATH, or set it to the docker binary.\n');
    expect(runs()).toEqual([]);
  });

  test('check of a context that does not exist: "no such context", exit 2', async () => {
    const missing = join(box.dir, 'nonexistent');
    const r = await runCli(['check', missing], { env: fake.record().env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`secbuild: no such build context: ${missing} does not exist; check the path.\n`);
  });

  test('build of a context that does not exist: "no such context", exit 2', async () => {
    const missing = join(box.dir, 'nonexistent');
    const { env, runs } = fake.record({ TOK: 'abcdefgh' });
    const r = await runCli(['--secret', 'id=api_token,from=env:TOK', missing], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`secbuild: no such build context: ${missing} does not exist; check the path.\n`);
    expect(runs()).toEqual([]);
  });
});

describe('compose build messages (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = tree({
    'compose.yaml': 'services:\n  app:\n    build: .\n',
    Dockerfile: 'FROM scratch\nRUN --mount=type=ssh true\nRUN --mount=type=ssh,id=gh true\n',
  });
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });

  test('an ssh id compose does not forward: the fix reads --ssh-key REF / --ssh-key ID=REF', async () => {
    const r = await runCli(['compose', 'build'], { env: fake.record().env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('give its key with --ssh-key REF (or an ssh: entry in secbuild.yml)');
    expect(r.stderr).toContain('give its key with --ssh-key gh=REF (or an ssh: entry in secbuild.yml)');
    expect(r.stderr).not.toMatch(/--ssh-keyREF/);
  });

  test('--dry-run says the compose engine and why once', async () => {
    const flat = tree({ 'compose.yaml': 'services:\n  app:\n    build: .\n', Dockerfile: 'FROM scratch\n' });
    try {
      for (const version of ['2.29.1', 'none']) {
        const r = await runCli(['compose', 'build', '--dry-run'], { env: fake.record({ FAKE_COMPOSE_VERSION: version }).env, cwd: flat.dir });
        expect(r.code, r.stderr).toBe(0);
        const lines = (r.stdout + r.stderr).split('\n').filter((l) => /Compose v2\.29\.1 answers|docker compose/.test(l) && /engine/.test(l));
        expect(lines, r.stdout + r.stderr).toHaveLength(1);
      }
    } finally {
      flat.cleanup();
    }
  });
});

describe('secbuild exec (real commands, no docker)', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  const noSsh = ['ssh-keygen', 'ssh-agent', 'ssh-add'].every((t) => onPath(t)) ? undefined : 'ssh-keygen, ssh-agent or ssh-add is not on PATH (openssh-client)';
  test.skipIf(skipUnlessCI(noSsh, 'messages: the exec --ssh-key case'))('--ssh-key: the command gets SSH_AUTH_SOCK of the agent holding the key', async () => {
    const keyFile = join(box.dir, 'id_ed25519');
    const gen = await sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'secbuild-messages', '-f', keyFile]);
    expect(gen.code, gen.stderr).toBe(0);
    const env = noDockerEnv(box, { DEPLOY_KEY: readFileSync(keyFile, 'utf8'), SSH_AUTH_SOCK: '/nonexistent/user-agent.sock' });
    const r = await runCli(['exec', '--ssh-key', 'env:DEPLOY_KEY', '--', 'sh', '-c', 'echo "sock=$SSH_AUTH_SOCK"; ssh-add -l'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^sock=${box.tmp}/secbuild-\\d+-\\w+/\\S+\\n`));
    expect(r.stdout).toContain('secbuild-messages (ED25519)');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('the command\'s stdout closed early (| head -1): exit as the pipeline does, no stack', async () => {
    const r = await sh('sh', ['-c', `"${process.execPath}" "${join(process.cwd(), 'bin', 'secbuild.js')}" exec -- yes | head -1; echo "status=$?"`], { env: noDockerEnv(box) });
    expect(r.stdout.toString()).toBe('y\nstatus=0\n');
    expect(r.stderr).toBe('');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('... and secbuild\'s own exit code then is the command\'s (141 for SIGPIPE), not 1', async () => {
    const r = await sh('bash', ['-c', `set -o pipefail; "${process.execPath}" "${join(process.cwd(), 'bin', 'secbuild.js')}" exec -- yes | head -1; echo "status=$?"`], { env: noDockerEnv(box) });
    expect(r.stdout.toString()).toBe('y\nstatus=141\n');
    expect(r.stderr).toBe('');
  });
});

describe('the README\'s secbuild.yml reference', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  afterAll(() => box.cleanup());

  test('names every key secbuild.yml accepts: version and description too, each accepted and ignored', async () => {
    const readme = readFileSync(join(process.cwd(), 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('## Config file: `secbuild.yml`'), readme.indexOf('## Preflight'));
    for (const key of ['`version`', '`secrets.NAME.description`']) expect(table).toMatch(new RegExp(`^\\| ${key.replace('.', '\\.')} \\|`, 'm'));
    const proj = tree({ 'secbuild.yml': 'version: 1\nsecrets:\n  api_token: { from: env:TOK, description: the API token for the build }\n', Dockerfile: DOCKERFILE.replace('$BASE', 'scratch') });
    try {
      const r = await runCli(['--dry-run', '.'], { env: fake.record({ TOK: 'abcdefgh' }).env, cwd: proj.dir });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      proj.cleanup();
    }
  });
});
