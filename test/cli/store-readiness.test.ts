/**
 * `secbuild secrets` prints one readiness line per secret store its secrets
 * read from (issue 27) — also when the store is reached through a `.npmrc`
 * or `.netrc` field or an age `identity=`, not only through `--secret`'s
 * `from=`. Vault is the store here because its readiness needs nothing
 * installed: VAULT_ADDR unset is "not ready", and no request is made.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { noDockerEnv, runCli, sandbox } from '../helpers/cli.js';

describe('secbuild secrets: store readiness for every reference (no docker, no store)', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());
  const env = () => noDockerEnv(box, { VAULT_ADDR: '', VAULT_TOKEN: '' });
  const notReady = 'store vault: not ready: VAULT_ADDR is not set';

  test.each([
    ['an --npmrc token=', ['--npmrc', 'registry=https://npm.example.com/,token=vault:secret/ci/npm#token']],
    ['a --netrc password=', ['--netrc', 'machine=git.example.com,login=ci,password=vault:secret/ci/git#pw']],
    ['an age identity=', ['--secret', 'id=t,from=age:tok.age,identity=vault:secret/ci/age#key']],
  ])('a vault: reference in %s gets the store line', async (_what, args) => {
    const r = await runCli(['secrets', ...args], { env: env(), cwd: box.dir });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain(notReady);
  });

  test('a field\'s failure names its reference once, not twice', async () => {
    const ref = 'vault:secret/ci/npm#token';
    const r = await runCli(['secrets', '--npmrc', `registry=https://npm.example.com/,token=${ref}`], { env: env(), cwd: box.dir });
    expect(r.stdout).toContain(`${ref}: VAULT_ADDR is not set`);
    expect(r.stdout).not.toContain(`${ref}: ${ref}:`);
  });

  test('a vault role-id= reference that does not resolve: exit 3 naming the field and the reference, not the secret id', async () => {
    const sid = 'sid-value-not-to-print';
    const r = await runCli(['secrets', '--secret', 'id=t,from=vault:secret/ci/npm#token,role-id=env:NO_SUCH_ROLE,secret-id=env:APP_SID'], {
      env: { ...env(), VAULT_ADDR: 'http://127.0.0.1:9', APP_SID: sid },
      cwd: box.dir,
    });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout + r.stderr).toContain('its role-id env:NO_SUCH_ROLE failed: environment variable NO_SUCH_ROLE is not set');
    expect(r.stdout + r.stderr).not.toContain(sid);
  });
});
