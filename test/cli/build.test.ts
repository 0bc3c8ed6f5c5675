/**
 * `secbuild build` up to the moment docker runs, without a daemon: preflight
 * stops a build whose Dockerfile mounts a secret nobody provides, --dry-run
 * and `secbuild secrets` show ids, sources and lengths, never values, a
 * failing provider or a missing docker stops the run before any file is
 * written, and the docker stand-in sees one --secret per file, each file
 * private and byte-exact while it runs and gone after.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { envFor, listDir, noDockerEnv, nonce, runCli, sandbox } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

const VALUE = `cli-${nonce()}-secret`;
const DOCKERFILE = [
  'FROM $BASE AS deps',
  'RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len',
  'FROM $BASE AS other',
  'RUN --mount=type=secret,id=never-provided true',
  'FROM $BASE AS final',
  'COPY --from=deps /len /len',
  '',
].join('\n');

describe('build, before and at the docker call (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite(DOCKERFILE);
  const tok = ['--secret', 'id=tok,from=env:E2E_TOKEN'];

  test('preflight: a mounted id that no secret provides stops the build (exit 2, docker not run)', async () => {
    const { env, runs } = fake.record({ E2E_TOKEN: VALUE });
    const r = await runCli(['--target', 'other', ctx.dir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Dockerfile:4: .*"never-provided"/);
    expect(runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a provided secret that no reached RUN mounts is a warning, not an error', async () => {
    const { env } = fake.record({ E2E_TOKEN: VALUE });
    const r = await runCli(['--dry-run', ...tok, '--secret', 'id=spare,from=env:E2E_TOKEN', '--target', 'final', ctx.dir], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: secret "spare" is provided but no RUN/);
  });

  test('--dry-run prints the docker command with file paths and never a value', async () => {
    const { env, runs } = fake.record({ E2E_TOKEN: VALUE });
    const r = await runCli(['--dry-run', ...tok, '--target', 'final', '-t', 'x', ctx.dir], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`DOCKER_BUILDKIT=1 \\S+docker build --secret id=tok,src=${box.tmp}/secbuild-\\d+-XXXXXX/00-tok --target final -t x ${ctx.dir}`));
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(r.stderr).toContain(`${Buffer.byteLength(VALUE)} bytes`);
    expect(runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a failing provider: exit 3 naming every failing secret, docker not run', async () => {
    const { env, runs } = fake.record({ E2E_TOKEN: VALUE });
    const r = await runCli([...tok, '--secret', 'id=a,from=env:E2E_UNSET_A', '--secret', 'id=b,from=cmd:sh -c "echo nope >&2; exit 7"', '--target', 'final', ctx.dir], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('"a"');
    expect(r.stderr).toContain('"b"');
    expect(r.stderr).toContain('nope');
    expect(r.stderr).not.toContain(VALUE);
    expect(runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('docker gets one --secret per file; each file is 0600 and byte-exact while docker runs, and gone after', async () => {
    const netrcValue = `pw-${nonce()}`;
    const { rec, env, read, runs } = fake.record({ E2E_TOKEN: VALUE, E2E_PW: netrcValue });
    const r = await runCli([...tok, '--netrc', 'machine=git.example,login=ci,password=env:E2E_PW', '--target', 'final', '-t', 'x', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(runs()).toHaveLength(1);
    const argv = read('argv').trimEnd().split('\n');
    const dir = `${box.tmp}/secbuild-\\d+-[A-Za-z0-9]{6}`;
    expect(argv).toEqual([
      'build',
      '--secret', expect.stringMatching(new RegExp(`^id=tok,src=${dir}/00-tok$`)),
      '--secret', expect.stringMatching(new RegExp(`^id=netrc,src=${dir}/01-netrc$`)),
      '--target', 'final', '-t', 'x', ctx.dir,
    ]);
    expect(readFileSync(join(rec, 'files', '00-tok'), 'utf8')).toBe(VALUE);
    expect(readFileSync(join(rec, 'files', '01-netrc'), 'utf8')).toBe(`machine git.example\n  login ci\n  password ${netrcValue}\n`);
    for (const f of ['00-tok', '01-netrc']) expect(read(`files/${f}.ls`)).toMatch(/^-rw------- /);
    expect(read('env')).toMatch(/^DOCKER_BUILDKIT=1$/m);
    expect(read('env')).not.toMatch(/^(E2E_TOKEN|E2E_PW)=/m);
    expect(r.stdout + r.stderr + read('argv')).not.toContain(VALUE);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a missing docker binary: exit 2, nothing written', async () => {
    const r = await runCli([...tok, '--target', 'final', ctx.dir], { env: envFor(box, join(box.dir, 'no-such-docker'), { E2E_TOKEN: VALUE }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SECBUILD_DOCKER .*no-such-docker: no executable file/);
    expect(listDir(box.tmp)).toEqual([]);
  });
});

describe('secbuild secrets', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  test('lists id, source, status and length, never a value', async () => {
    const env = noDockerEnv(box, { E2E_TOKEN: VALUE, E2E_PIN: '123' });
    const r = await runCli(['secrets', '--secret', 'id=tok,from=env:E2E_TOKEN', '--secret', 'id=gone,from=env:E2E_UNSET', '--secret', 'id=maybe,from=env:E2E_UNSET,optional', '--secret', 'id=pin,from=env:E2E_PIN'], { env });
    expect(r.stdout).toMatch(/pin\s+env:E2E_PIN\s+ok\s+3\s+stable\s+shorter than 4 bytes: not masked in output/);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(new RegExp(`tok\\s+env:E2E_TOKEN\\s+ok\\s+${Buffer.byteLength(VALUE)}`));
    expect(r.stdout).toMatch(/gone\s+env:E2E_UNSET\s+FAILED/);
    expect(r.stdout).toMatch(/maybe\s+env:E2E_UNSET\s+absent \(optional\)/);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });
});
