/**
 * `secbuild bake` with a cache policy and with --ssh-key, through the shared
 * pipeline: the docker stand-in (test/helpers/fake-docker.ts) prints a bake
 * definition for `--print` and only records the bake's argv and secret files,
 * so these tests check the `--set` words and the errors that stop a run
 * before bake. What BuildKit does with them (a step rebuilt when the value
 * changes, a clone over ssh) is test/e2e/bake-extras.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { onPath, skipUnlessCI } from '../helpers/ci.js';
import { listDir, runCli, sandbox, tree } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

const VALUE = 'bake-extras-s3cret-5e1a';
const noSsh = skipUnlessCI(
  !['ssh-keygen', 'ssh-agent', 'ssh-add'].every((t) => onPath(t)) && 'ssh-keygen, ssh-agent or ssh-add is not on PATH (openssh-client)',
  'bake-extras: the --ssh-key cases',
);
const KEY = 'k'.repeat(40);
const print = (targets: Record<string, unknown>) => JSON.stringify({ target: targets });

describe('secbuild bake: cache policies and ssh keys (docker stand-in: argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = tree({
    'app/Dockerfile': 'FROM x\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n',
    'app/Plain': 'FROM x\nRUN --mount=type=secret,id=tok true\n',
    'app/None': 'FROM x\nRUN true\n',
    'git/Dockerfile': 'FROM x\nRUN --mount=type=ssh,id=gh git clone git@github.com:o/r\nRUN --mount=type=ssh true\n',
  });
  if (!noSsh) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'secbuild-bake-test', '-f', join(box.dir, 'key')]);
  const PRIVATE = noSsh ? '' : readFileSync(join(box.dir, 'key'), 'utf8');
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });
  const record = (targets: Record<string, unknown>, extra: NodeJS.ProcessEnv = {}) =>
    fake.record({ FAKE_BUILDX_INSPECT: 'Driver: docker', FAKE_BAKE_PRINT: print(targets), MYTOK: VALUE, SECBUILD_CACHE_KEY: KEY, SSH_KEY: PRIVATE, ...extra });
  const sets = (argv: string[]) => argv.filter((_, i) => argv[i - 1] === '--set');

  test('cache=content: the target that mounts the secret gets the derived Dockerfile and the keyed MAC as a build-arg; the other target does not', async () => {
    const rec = record({ a: { context: 'app', dockerfile: 'Dockerfile' }, p: { context: 'app', dockerfile: 'None', secret: ['id=other,env=O'] } });
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK,cache=content', 'a', 'p'], { env: rec.env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    const argv = rec.read('argv').trimEnd().split('\n');
    const mac = createHmac('sha256', KEY).update(`secbuild-cache-v1\0tok\0\0`).update(VALUE).digest('hex');
    const s = sets(argv);
    expect(s).toContainEqual(expect.stringMatching(/^a\.dockerfile=\S+\/secbuild-\d+-\w+\/dockerfile-0\/Dockerfile$/));
    expect(s).toContainEqual(`a.args.SECBUILD_CACHE_IDtok=${mac}`);
    expect(s.filter((x) => x.startsWith('p.'))).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('cache=content with a dockerfile-inline target that mounts the secret: exit 2 naming the target, before bake runs', async () => {
    const rec = record({ i: { context: 'app', 'dockerfile-inline': 'FROM x\nRUN --mount=type=secret,id=tok true\n' } });
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK,cache=content'], { env: rec.env, cwd: proj.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('target "i" has an inline Dockerfile (dockerfile-inline)');
    expect(rec.runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--dry-run with cache=content shows the placeholder, never a MAC or value', async () => {
    const rec = record({ a: { context: 'app', dockerfile: 'Dockerfile' } });
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK,cache=content', '--dry-run'], { env: rec.env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--set 'a\.args\.SECBUILD_CACHE_IDtok=<HMAC-SHA-256 of tok \(cache=content\)>'/);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(rec.runs()).toEqual([]);
  });

  test.skipIf(noSsh)("--ssh-key: each target whose Dockerfile mounts the id, or whose ssh list names it, gets secbuild's agent; its own other entries are kept", async () => {
    const rec = record({ g: { context: 'git', dockerfile: 'Dockerfile', ssh: ['default'] }, n: { context: 'app', dockerfile: 'Plain', secret: ['id=tok,env=T'], ssh: ['gh'] }, o: { context: 'app', dockerfile: 'Plain', secret: ['id=tok,env=T'] } });
    const report = join(box.dir, 'ssh-report.json');
    const r = await runCli(['bake', '--ssh-key', 'gh=env:SSH_KEY', '--report', report, 'g', 'n', 'o'], { env: rec.env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(readFileSync(report, 'utf8')).targets.map((t: { target: string; ssh?: string[] }) => [t.target, t.ssh])).toEqual([['g', ['gh']], ['n', ['gh']], ['o', undefined]]);
    expect(readFileSync(report, 'utf8')).not.toContain(PRIVATE.split('\n')[1]!);
    const s = sets(rec.read('argv').trimEnd().split('\n'));
    expect(s.filter((x) => x.includes('.ssh='))).toEqual([
      'g.ssh=default',
      expect.stringMatching(/^g\.ssh=gh=\S+\/secbuild-\d+-\w+\/\S+$/),
      expect.stringMatching(/^n\.ssh=gh=\S+$/),
    ]);
    expect(r.stdout + r.stderr).not.toContain(PRIVATE.split('\n')[1]!);
    expect(rec.read('env')).not.toContain(PRIVATE.split('\n')[1]!);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.skipIf(noSsh)('an ssh mount neither secbuild nor the target forwards: exit 2 naming target, file and line, and the fix', async () => {
    const rec = record({ g: { context: 'git', dockerfile: 'Dockerfile' } });
    const r = await runCli(['bake', '--ssh-key', 'gh=env:SSH_KEY', 'g'], { env: rec.env, cwd: proj.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`target "g": ${proj.dir}/git/Dockerfile:3: RUN mounts ssh id "default", which neither secbuild forwards nor target.g.ssh lists; give a key with --ssh-key default=PATH, or add "default" to its ssh list.`);
    expect(rec.runs()).toEqual([]);
  });
});
