/**
 * `vault:` specifics. Vault cannot run here, so every test runs against a
 * recording stand-in for Vault's HTTP API (test/helpers/vault-standin.ts),
 * which answers as Vault's documented KV v1/v2, preflight and AppRole
 * endpoints do and records each request.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { vaultProvider } from '../../providers/vault.js';
import { MissingSecret, ProviderError, type ResolveContext } from '../../providers/types.js';
import { MAX_SECRET_BYTES } from '../../src/secrets/limits.js';
import { scrubEnv } from '../../src/run/env.js';
import { parseConfig } from '../../src/secrets/config.js';
import { resolveSpecs, sensitiveEnvVars } from '../../src/secrets/resolve.js';
import { parseSecretFlag } from '../../src/secrets/spec.js';
import { ResolveError } from '../../src/util/errors.js';
import { parse } from 'yaml';
import { startVaultStandin, type VaultStandin } from '../helpers/vault-standin.js';

const TOKEN = `hvs.${randomBytes(12).toString('hex')}`;
let v: VaultStandin;
let dir: string;
const ctx = (extra: Record<string, string | undefined> = {}): ResolveContext => {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, VAULT_ADDR: v.addr, VAULT_TOKEN: TOKEN, ...extra };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return { env, childEnv: scrubEnv(env, new Set(vaultProvider.envVars())), cwd: dir };
};
/** readiness's context: the specs' vault: references (each with its inputs by key), none unless given. */
const ready = (extra?: Record<string, string | undefined>, refs: { inputs?: Record<string, unknown> }[] = []) => ({ ...ctx(extra), refs });
const read = async (key: string, extra?: Record<string, string | undefined>) => (await vaultProvider.resolve(key, ctx(extra))).toString('utf8');
const fail = async (key: string, extra?: Record<string, string | undefined>) => {
  const err = await vaultProvider.resolve(key, ctx(extra)).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  const msg = (err as Error).message;
  expect(msg).not.toContain(TOKEN);
  expect(msg).not.toContain('s3cr3t');
  expect(msg).not.toContain('permission denied"'); // Vault's body is never quoted
  return err as Error;
};

/** A stand-in over https with a fresh self-signed certificate for 127.0.0.1 (written as cert-NAME.pem), holding secret/ci/npm#token. */
async function selfSignedVault(name: string): Promise<{ tls: VaultStandin; cert: string }> {
  const key = join(dir, `key-${name}.pem`);
  const cert = join(dir, `cert-${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const tls = await startVaultStandin(TOKEN, { key: await readFile(key), cert: await readFile(cert) });
  tls.mounts.secret = { version: 2, secrets: { 'ci/npm': { token: 's3cr3t-tls' } } };
  return { tls, cert };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secbuild-vault-'));
  v = await startVaultStandin(TOKEN);
  v.mounts.secret = { version: 2, secrets: { 'ci/npm': { token: 's3cr3t-v2', user: 'ci', n: 42 }, 'ci/one': { only: 's3cr3t-one' } } };
  v.mounts['team/kv'] = { version: 1, secrets: { 'app/db': { password: 's3cr3t-v1' } } };
});
afterAll(async () => {
  await v?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("vault provider specifics (recording stand-in for Vault's HTTP API)", () => {
  test.each<[string, string]>([
    ['secret/ci/npm#token', 's3cr3t-v2'],
    ['secret/ci/npm#user', 'ci'],
    ['secret/ci/npm#n', '42'],
    ['secret/ci/one', 's3cr3t-one'],
    ['team/kv/app/db#password', 's3cr3t-v1'],
  ])('vault:%s → %j (field selection; KV v2 and a v1 mount with a slash in its name)', async (key, want) => {
    expect(await read(key)).toBe(want);
  });

  test('KV v2 is read from MOUNT/data/PATH after the documented preflight; v1 from MOUNT/PATH', async () => {
    v.requests.length = 0;
    await read('secret/ci/npm#token');
    await read('team/kv/app/db#password');
    expect(v.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /v1/sys/internal/ui/mounts/secret/ci/npm',
      'GET /v1/secret/data/ci/npm',
      'GET /v1/sys/internal/ui/mounts/team/kv/app/db',
      'GET /v1/team/kv/app/db',
    ]);
  });

  test('a Vault without the preflight (404) is read as KV v1, as the vault CLI does', async () => {
    v.legacy = true;
    try {
      v.requests.length = 0;
      expect(await read('team/kv/app/db#password')).toBe('s3cr3t-v1');
      expect(v.requests.at(-1)!.path).toBe('/v1/team/kv/app/db');
    } finally {
      v.legacy = false;
    }
  });

  test('the token goes in X-Vault-Token, VAULT_NAMESPACE in X-Vault-Namespace, on every request', async () => {
    v.requests.length = 0;
    await read('secret/ci/npm#token', { VAULT_NAMESPACE: 'team-a/ci' });
    expect(v.requests).toHaveLength(2);
    for (const r of v.requests) {
      expect(r.headers['x-vault-token']).toBe(TOKEN);
      expect(r.headers['x-vault-namespace']).toBe('team-a/ci');
    }
    v.requests.length = 0;
    await read('secret/ci/npm#token');
    expect(v.requests[0]!.headers['x-vault-namespace']).toBeUndefined();
  });

  test('the token and the AppRole secret id are removed from every child environment', () => {
    const c = ctx({ VAULT_SECRET_ID: 'sid', HOME: '/h' });
    expect(c.childEnv.VAULT_TOKEN).toBeUndefined();
    expect(c.childEnv.VAULT_SECRET_ID).toBeUndefined();
    expect(c.childEnv.HOME).toBe('/h');
  });

  test('no such path: MissingSecret naming the reference and the path', async () => {
    const err = await fail('secret/ci/absent#token');
    expect(err).toBeInstanceOf(MissingSecret);
    expect(err.message).toBe('vault:secret/ci/absent#token: Vault has no secret at "secret/ci/absent"; check the path, or write it with: vault kv put secret/ci/absent KEY=…');
  });

  test('no such field: MissingSecret naming the field', async () => {
    const err = await fail('secret/ci/npm#password');
    expect(err).toBeInstanceOf(MissingSecret);
    expect(err.message).toBe('vault:secret/ci/npm#password: the secret at "secret/ci/npm" has no field "password"; add it, or check the name after "#"');
  });

  test('a wrong token: 403 permission denied, the token never in the message', async () => {
    const err = await fail('secret/ci/npm#token', { VAULT_TOKEN: `${TOKEN}-wrong` });
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toBe('vault:secret/ci/npm#token: Vault denied permission to the mount of "secret/ci/npm" (403); check that the token is valid and its policy grants read on it');
    expect(err.message).not.toContain('-wrong');
  });

  test.each<[string, Record<string, string | undefined>, string]>([
    ['no VAULT_ADDR', { VAULT_ADDR: undefined }, "vault:secret/ci/npm#token: VAULT_ADDR is not set; set it to your Vault's address (for example https://vault.example.com:8200)"],
    ['no token', { VAULT_TOKEN: undefined }, 'vault:secret/ci/npm#token: no Vault token; set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for an AppRole login'],
    ['an unreadable VAULT_CACERT', { VAULT_CACERT: '/nonexistent/ca.pem' }, 'vault:secret/ci/npm#token: VAULT_CACERT names /nonexistent/ca.pem, which cannot be read; point it at the CA\'s PEM file'],
  ])('%s: a ProviderError that says what to set', async (_name, extra, want) => {
    const err = await fail('secret/ci/npm#token', extra);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toBe(want);
  });

  test('an unreachable VAULT_ADDR: a ProviderError naming the address and the error code', async () => {
    const port = await new Promise<number>((r) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => r(p));
      });
    });
    const err = await fail('secret/ci/npm#token', { VAULT_ADDR: `http://127.0.0.1:${port}` });
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toBe(`vault:secret/ci/npm#token: could not reach Vault at http://127.0.0.1:${port} (ECONNREFUSED); check VAULT_ADDR and that Vault is running`);
  });

  test('an answer over the bound is refused without being read whole', async () => {
    v.pad = 2 * MAX_SECRET_BYTES + 64 * 1024;
    try {
      const err = await fail('secret/ci/npm#token');
      expect(err).toBeInstanceOf(ProviderError);
      expect(err.message).toMatch(/answered with more than 500 KiB; BuildKit accepts at most 512000 bytes/);
    } finally {
      v.pad = 0;
    }
  });

  test('a value over 500 KiB inside a well-sized answer is refused', async () => {
    v.mounts.secret!.secrets['ci/big'] = { token: 'a'.repeat(MAX_SECRET_BYTES + 1) };
    const err = await fail('secret/ci/big#token');
    expect(err.message).toBe(`vault:secret/ci/big#token is more than 500 KiB; BuildKit accepts at most ${MAX_SECRET_BYTES} bytes (500 KiB) per secret`);
  });

  test('several keys and no #FIELD: a ProviderError asking for one, no value shown', async () => {
    const err = await fail('secret/ci/npm');
    expect(err.message).toBe('vault:secret/ci/npm: the secret at "secret/ci/npm" has 3 keys; name one with #FIELD (for example vault:secret/ci/npm#token)');
  });

  test('AppRole: VAULT_ROLE_ID and VAULT_SECRET_ID log in (POST auth/approle/login), the token obtained is used', async () => {
    v.approle = { roleId: 'role-1', secretId: 'sid-1' };
    v.requests.length = 0;
    expect(await read('secret/ci/npm#token', { VAULT_TOKEN: undefined, VAULT_ROLE_ID: 'role-1', VAULT_SECRET_ID: 'sid-1' })).toBe('s3cr3t-v2');
    expect(v.requests[0]).toMatchObject({ method: 'POST', path: '/v1/auth/approle/login' });
    expect(v.requests[0]!.headers['x-vault-token']).toBeUndefined();
    expect(v.requests[1]!.headers['x-vault-token']).toBe(TOKEN);
    const err = await fail('secret/ci/npm#token', { VAULT_TOKEN: undefined, VAULT_ROLE_ID: 'role-1', VAULT_SECRET_ID: 'sid-wrong' });
    expect(err.message).toBe('vault:secret/ci/npm#token: the AppRole login at auth/approle was refused (HTTP 400); check VAULT_ROLE_ID and VAULT_SECRET_ID');
    expect(err.message).not.toContain('sid-wrong');
  });

  test('readiness says whether VAULT_ADDR and a token are set, and makes no request', async () => {
    v.requests.length = 0;
    expect(await vaultProvider.readiness(ready())).toMatchObject({ store: 'vault', ok: true });
    expect((await vaultProvider.readiness(ready({ VAULT_TOKEN: undefined }))).ok).toBe(false);
    expect((await vaultProvider.readiness(ready({ VAULT_ADDR: undefined }))).text).toMatch(/^VAULT_ADDR is not set/);
    expect(JSON.stringify(await vaultProvider.readiness(ready()))).not.toContain(TOKEN);
    // role-id= and secret-id= references are the login: no "no token"; one of them alone is a problem.
    const appRole = { inputs: { 'role-id': {}, 'secret-id': {} } };
    expect(await vaultProvider.readiness(ready({ VAULT_TOKEN: undefined }, [appRole]))).toMatchObject({ ok: true, used: true, text: expect.stringContaining('auth by an AppRole login that will use the role-id= and secret-id= references') });
    expect((await vaultProvider.readiness(ready({ VAULT_TOKEN: undefined }, [{ inputs: { 'role-id': {} } }]))).text).toMatch(/gives only one of role-id= and secret-id=/);
    expect((await vaultProvider.readiness(ready({ VAULT_TOKEN: undefined }, [appRole, {}]))).text).toMatch(/but no token/);
    // Nothing of Vault's set and no reference: not used.
    expect(await vaultProvider.readiness(ready({ VAULT_TOKEN: undefined, VAULT_ADDR: undefined }))).toMatchObject({ ok: false, used: false });
    expect(v.requests).toHaveLength(0);
  });

  test.each(['', 'secret', 'secret/', 'secret/a#', 'secret/../sys#x', 'secret//a', 'secret/a?x=1'])('check() refuses %j', (key) => {
    expect(vaultProvider.check(key)).toMatch(/empty|MOUNT\/PATH|control character|segment/);
  });

  test('https: a self-signed Vault is refused without VAULT_CACERT and read with it', async () => {
    const { tls, cert } = await selfSignedVault('1');
    try {
      const err = await fail('secret/ci/npm#token', { VAULT_ADDR: tls.addr });
      expect(err).toBeInstanceOf(ProviderError);
      expect(err.message).toBe(`vault:secret/ci/npm#token: Vault at ${tls.addr} presented a certificate that could not be verified (DEPTH_ZERO_SELF_SIGNED_CERT); set VAULT_CACERT to the CA's PEM file`);
      expect(await read('secret/ci/npm#token', { VAULT_ADDR: tls.addr, VAULT_CACERT: cert })).toBe('s3cr3t-tls');
    } finally {
      await tls.stop();
    }
  });

  test('https: NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment does not turn off the check of a self-signed Vault (no token sent)', async () => {
    const { tls } = await selfSignedVault('2');
    // node reads it from its own process environment at each TLS connect, whatever the provider is given.
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    const warn = process.emitWarning;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    process.emitWarning = () => undefined;
    try {
      const err = await fail('secret/ci/npm#token', { VAULT_ADDR: tls.addr, NODE_TLS_REJECT_UNAUTHORIZED: '0' });
      expect(err.message).toMatch(/presented a certificate that could not be verified \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
      expect(tls.requests).toHaveLength(0);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
      process.emitWarning = warn;
      await tls.stop();
    }
  });

  test('a server that trickles its answer (a byte every 300 ms) is stopped at VAULT_CLIENT_TIMEOUT for the whole request (a hostile server, not the stand-in)', async () => {
    const slow = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write('{');
      const t = setInterval(() => res.write(' '), 300);
      res.on('close', () => clearInterval(t));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const addr = `http://127.0.0.1:${(slow.address() as { port: number }).port}`;
    const started = Date.now();
    try {
      const err = await fail('secret/ci/npm#token', { VAULT_ADDR: addr, VAULT_CLIENT_TIMEOUT: '1' });
      expect(err.message).toBe(`vault:secret/ci/npm#token: Vault at ${addr} did not answer within 1s (VAULT_CLIENT_TIMEOUT); check VAULT_ADDR and the network`);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((r) => slow.close(() => r()));
    }
  }, 15_000);

  describe('AppRole role-id=REF and secret-id=REF, resolved through other providers', () => {
    const SID = `sid-${randomBytes(8).toString('hex')}`;
    const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, VAULT_ADDR: v.addr, APP_ROLE: 'role-ref', APP_SID: SID });
    const resolveFlags = (flags: string[], e = env()) => {
      const specs = flags.map((f) => parseSecretFlag(f, e, dir));
      return resolveSpecs(specs, { env: e, childEnv: scrubEnv(e, sensitiveEnvVars(specs)) });
    };
    beforeAll(async () => {
      await writeFile(join(dir, 'sid.txt'), `${SID}\n`);
    });

    test('--secret …,role-id=env:VAR,secret-id=env:VAR logs in with their values, never sent as a token, both masked', async () => {
      v.approle = { roleId: 'role-ref', secretId: SID };
      v.requests.length = 0;
      const r = await resolveFlags(['id=t,from=vault:secret/ci/npm#token,role-id=env:APP_ROLE,secret-id=env:APP_SID']);
      expect(r.secrets.map((s) => [s.id, s.value.toString()])).toEqual([['t', 's3cr3t-v2']]);
      expect(v.requests[0]).toMatchObject({ method: 'POST', path: '/v1/auth/approle/login' });
      expect(v.requests[1]!.headers['x-vault-token']).toBe(TOKEN);
      expect(r.values.map((s) => s.value.toString())).toEqual(expect.arrayContaining(['role-ref', SID]));
    });

    test('secbuild.yml takes role-id: and secret-id: beside from: vault:…; a file: reference is read relative to it, its final newline dropped', async () => {
      v.approle = { roleId: 'role-ref', secretId: SID };
      const { specs } = parseConfig('secrets:\n  t: { from: "vault:secret/ci/npm#token", role-id: "env:APP_ROLE", secret-id: "file:sid.txt" }\n', join(dir, 'secbuild.yml'), (t) => parse(t));
      const r = await resolveSpecs(specs, { env: env(), childEnv: scrubEnv(env(), sensitiveEnvVars(specs)) });
      expect(r.secrets[0]!.value.toString()).toBe('s3cr3t-v2');
    });

    test('a spec reference wins over VAULT_TOKEN; the variables it names leave every child environment', async () => {
      v.approle = { roleId: 'role-ref', secretId: SID };
      v.requests.length = 0;
      const e = { ...env(), VAULT_TOKEN: 'hvs.not-this-one' };
      await resolveFlags(['id=t,from=vault:secret/ci/npm#token,role-id=env:APP_ROLE,secret-id=env:APP_SID'], e);
      expect(v.requests[0]!.path).toBe('/v1/auth/approle/login');
      const spec = parseSecretFlag('id=t,from=vault:secret/ci/npm#token,role-id=env:APP_ROLE,secret-id=env:APP_SID', e, dir);
      expect([...sensitiveEnvVars([spec])].sort()).toEqual(['APP_ROLE', 'APP_SID', 'VAULT_SECRET_ID', 'VAULT_TOKEN']);
    });

    test('a role-id reference that does not resolve fails naming the field and the reference, never a value', async () => {
      v.approle = { roleId: 'role-ref', secretId: SID };
      const err = await resolveFlags(['id=t,from=vault:secret/ci/npm#token,role-id=env:NO_SUCH_ROLE,secret-id=env:APP_SID']).catch((x: unknown) => x);
      expect(err).toBeInstanceOf(ResolveError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/\(vault:secret\/ci\/npm#token\): its role-id env:NO_SUCH_ROLE failed: environment variable NO_SUCH_ROLE is not set/);
      expect(msg).not.toContain(SID);
      expect(msg).not.toContain('s3cr3t');
    });

    test('a role-id reference without a secret id anywhere names what to add', async () => {
      const err = await resolveFlags(['id=t,from=vault:secret/ci/npm#token,role-id=env:APP_ROLE']).catch((x: unknown) => x);
      expect((err as Error).message).toMatch(/vault:secret\/ci\/npm#token: an AppRole login needs a role id and a secret id; give secret-id=REF \(or VAULT_SECRET_ID\) as well/);
    });

    test('a refused login with references names the spec keys to check, never the values', async () => {
      v.approle = { roleId: 'role-ref', secretId: 'another' };
      const err = await resolveFlags(['id=t,from=vault:secret/ci/npm#token,role-id=env:APP_ROLE,secret-id=env:APP_SID']).catch((x: unknown) => x);
      expect((err as Error).message).toMatch(/the AppRole login at auth\/approle was refused \(HTTP 400\); check role-id= and secret-id=/);
      expect((err as Error).message).not.toContain(SID);
    });

    test.each<[string, RegExp]>([
      ['id=t,from=env:APP_SID,role-id=env:APP_ROLE', /role-id= is only for vault: references; drop it/],
      ['id=t,from=vault:secret/ci/npm#token,role-id=age:x.age', /role-id= cannot itself be an age: reference/],
    ])('%s is refused before anything runs', (flag, want) => {
      expect(() => parseSecretFlag(flag, env(), dir)).toThrow(want);
    });
  });
});
