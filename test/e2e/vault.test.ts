/**
 * `vault:` end to end. Vault cannot run here, so secbuild reads from a
 * recording stand-in for Vault's HTTP API (test/helpers/vault-standin.ts);
 * the build, the masking, the cleanup and the image are real.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { context, listDir, nonce, runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';
import { startVaultStandin, type VaultStandin } from '../helpers/vault-standin.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describeE2E("vault: store (recording stand-in for Vault's HTTP API)", () => {
  const box = sandbox('secbuild-stores2-');
  const token = `hvs.${randomBytes(12).toString('hex')}`;
  const value = `vault-${nonce()}-välue`;
  const ctx = context('FROM $BASE\nARG N\nRUN --mount=type=secret,id=tok echo $N >/dev/null && sha256sum /run/secrets/tok > /h && cat /run/secrets/tok\n');
  const tag = `secbuild-stores2-vault:${nonce()}`;
  let v: VaultStandin;
  const env = (extra: NodeJS.ProcessEnv = {}) => baseEnv(box, { VAULT_ADDR: v.addr, VAULT_TOKEN: token, ...extra });
  beforeAll(async () => {
    v = await startVaultStandin(token);
    v.mounts.secret = { version: 2, secrets: { 'ci/npm': { token: value, user: 'ci' } } };
  });
  afterAll(async () => {
    await v?.stop();
    await docker(['rmi', '-f', tag]);
    ctx.cleanup();
    box.cleanup();
  });

  test('a build mounts a KV v2 field: its hash in the image, masked in the log, nothing left', async () => {
    const r = await runCli(['--secret', 'id=tok,from=vault:secret/ci/npm#token', '--progress=plain', '--build-arg', `N=${nonce()}`, '-t', tag, ctx.dir], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stderr).toContain('***');
    expect(listDir(box.tmp)).toEqual([]);
    const out = (await docker(['run', '--rm', tag, 'cat', '/h'])).stdout.toString();
    expect(out.split(/\s+/)[0]).toBe(sha(value));
  });

  test('secbuild exec hands a field to the command, not VAULT_TOKEN; a missing path is exit 3 naming it', async () => {
    const r = await runCli(['exec', '--env', 'T=vault:secret/ci/npm#token', '--', 'sh', '-c', 'printf %s "$T" | sha256sum; printf "[%s]" "${VAULT_TOKEN-unset}"'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(/\s+/)[0]).toBe(sha(value));
    expect(r.stdout).toContain('[unset]');
    const missing = await runCli(['exec', '--env', 'T=vault:secret/ci/absent#token', '--', 'true'], { env: env() });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('vault:secret/ci/absent#token: Vault has no secret at "secret/ci/absent"');
  });

  test('doctor says whether VAULT_ADDR and a token are set and sends Vault no request; secrets adds the line', async () => {
    v.requests.length = 0;
    const r = await runCli(['doctor'], { env: env() });
    expect(r.stdout).toMatch(/^ok    vault: VAULT_ADDR is set, auth by VAULT_TOKEN \(not checked with Vault: no request is made\)$/m);
    const none = await runCli(['doctor'], { env: env({ VAULT_TOKEN: '' }) });
    expect(none.stdout).toMatch(/^warn  vault: VAULT_ADDR is set, but no token/m);
    expect(v.requests.map((q) => `${q.method} ${q.path}`)).toEqual([]);
    // secbuild secrets resolves each secret (it reports sizes), as for every provider: one preflight and one read.
    const listed = await runCli(['secrets', '--secret', 'id=tok,from=vault:secret/ci/npm#token'], { env: env() });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^store vault: ready: VAULT_ADDR is set/m);
    expect(r.stdout + listed.stdout + none.stdout).not.toContain(token);
    expect(listed.stdout).not.toContain(value);
    expect(v.requests.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /v1/sys/internal/ui/mounts/secret/ci/npm', 'GET /v1/secret/data/ci/npm']);
  });
});
