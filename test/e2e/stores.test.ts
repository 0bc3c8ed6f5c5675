/**
 * Secret stores against real implementations (issue 27):
 *
 * - `pass:` with Debian's pass 1.7 and gpg, a throw-away GNUPGHOME with a
 *   passphrase-less key and a store of its own (test/helpers/pass-store.ts):
 *   a build mounts an entry's first line (its hash in the image, the value
 *   masked in docker's log, the secret root empty after) and `secbuild exec`
 *   hands a `#field` to a command.
 * - `aws-sm:` and `aws-ssm:` with the awscli on the host against one
 *   moto_server (test/helpers/moto.ts): a build mounts a Secrets Manager
 *   JSON key, `secbuild exec` an SSM SecureString and an aws-sm: JSON key;
 *   examples/stores builds with one secret from each store.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BASE, context, listDir, nonce, ROOT, runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';
import { makePassStore, passMissing, type PassStore } from '../helpers/pass-store.js';
import { motoMissing, startMoto, type Moto } from '../helpers/moto.js';
import { makeOpStandin } from '../helpers/op-standin.js';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
/** One moto_server for the whole file, started by the first suite that needs it. */
let motoStarted: Promise<Moto> | undefined;
const sharedMoto = () => (motoStarted ??= startMoto());
afterAll(async () => (await motoStarted?.catch(() => undefined))?.stop());

describeE2E('pass: store (real pass and gpg)', passMissing, () => {
  const box = sandbox('secbuild-stores-');
  const value = `pass-${nonce()}-välue`;
  const user = `user-${nonce()}`;
  const ctx = context('FROM $BASE\nARG N\nRUN --mount=type=secret,id=pw echo $N >/dev/null && sha256sum /run/secrets/pw > /h && cat /run/secrets/pw\n');
  const tag = `secbuild-stores/pass:${nonce()}`;
  let store: PassStore;
  beforeAll(() => {
    store = makePassStore(mkdtempSync(join(tmpdir(), 'secbuild-stores-pass-')));
    store.insert('ci/npm', Buffer.from(`${value}\nuser: ${user}\n`));
  });
  afterAll(async () => {
    store?.stop();
    await docker(['rmi', '-f', tag]);
    ctx.cleanup();
    box.cleanup();
  });

  test('a build mounts the entry\'s first line: its hash in the image, masked in the log, nothing left', async () => {
    const env = baseEnv(box, store.env);
    const r = await runCli(['--secret', 'id=pw,from=pass:ci/npm', '--progress=plain', '--build-arg', `N=${nonce()}`, '-t', tag, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(r.stderr).toContain('***');
    expect(listDir(box.tmp)).toEqual([]);
    const out = (await docker(['run', '--rm', tag, 'cat', '/h'])).stdout.toString();
    expect(out.split(/\s+/)[0]).toBe(sha(value));
  });

  test('doctor and secrets say the pass store is ready without reading an entry; doctor warns without one', async () => {
    const r = await runCli(['doctor'], { env: baseEnv(box, store.env) });
    expect(r.stdout).toMatch(new RegExp(`^ok    pass: pass \\d+\\.\\d+\\.\\d+, store ${store.env.PASSWORD_STORE_DIR} `, 'm'));
    expect(r.stdout).not.toContain(value);
    const none = await runCli(['doctor'], { env: baseEnv(box, { PASSWORD_STORE_DIR: join(box.dir, 'no-store') }) });
    const listed = await runCli(['secrets', '--secret', 'id=pw,from=pass:ci/npm'], { env: baseEnv(box, store.env) });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^store pass: ready: pass \\S+, store ${store.env.PASSWORD_STORE_DIR} `, 'm'));
    expect(listed.stdout).not.toContain(value);
    expect(none.stdout).toContain(`warn  pass: pass 1.7.4 found, but no store at ${join(box.dir, 'no-store')} (no .gpg-id)`.replace('1.7.4', /pass (\S+) found/.exec(none.stdout)?.[1] ?? '?'));
  });

  test('secbuild exec hands a #field to the command; a missing entry is exit 3 naming it', async () => {
    const env = baseEnv(box, store.env);
    const r = await runCli(['exec', '--env', 'U=pass:ci/npm#user', '--', 'sh', '-c', 'printf %s "$U" | sha256sum'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(/\s+/)[0]).toBe(sha(user));
    expect(listDir(box.tmp)).toEqual([]);
    const missing = await runCli(['exec', '--env', 'U=pass:ci/absent', '--', 'true'], { env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain(`pass:ci/absent: no entry "ci/absent" in the password store ${store.env.PASSWORD_STORE_DIR}`);
  });
});

describeE2E('aws-sm: and aws-ssm: (real awscli against moto_server)', motoMissing, () => {
  const box = sandbox('secbuild-stores-');
  const token = `sm-${nonce()}-välue`;
  const param = `ssm-${nonce()}`;
  const name = `ci/npm-${nonce()}`;
  const ctx = context('FROM $BASE\nARG N\nRUN --mount=type=secret,id=tok echo $N >/dev/null && sha256sum /run/secrets/tok > /h && cat /run/secrets/tok\n');
  const tag = `secbuild-stores/aws:${nonce()}`;
  let moto: Moto;
  beforeAll(async () => {
    moto = await sharedMoto();
    moto.aws(['secretsmanager', 'create-secret', '--name', name, '--secret-string', JSON.stringify({ token, user: 'ci' })]);
    moto.aws(['ssm', 'put-parameter', '--name', `/${name}`, '--type', 'SecureString', '--value', param]);
  }, 300_000);
  afterAll(async () => {
    await docker(['rmi', '-f', tag]);
    ctx.cleanup();
    box.cleanup();
  });

  test('a build mounts a Secrets Manager JSON key: its hash in the image, masked in the log, nothing left', async () => {
    const env = baseEnv(box, moto.env);
    const r = await runCli(['--secret', `id=tok,from=aws-sm:${name}#token`, '--progress=plain', '--build-arg', `N=${nonce()}`, '-t', tag, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(r.stderr).toContain('***');
    expect(listDir(box.tmp)).toEqual([]);
    const out = (await docker(['run', '--rm', tag, 'cat', '/h'])).stdout.toString();
    expect(out.split(/\s+/)[0]).toBe(sha(token));
  });

  test('doctor names the aws CLI, where credentials come from and the region, without a request', async () => {
    const r = await runCli(['doctor'], { env: baseEnv(box, moto.env) });
    expect(r.stdout).toMatch(/^ok    aws: aws \d+\.\d+\.\d+, credentials from AWS_ACCESS_KEY_ID, region us-east-1 \(not checked with AWS: no request is made\)$/m);
    expect(r.stdout.match(/^\w+ +aws:/gm)).toHaveLength(1);
  });

  test('secbuild exec hands an SSM SecureString and a Secrets Manager JSON key to the command; a missing secret is exit 3 naming it', async () => {
    const env = baseEnv(box, moto.env);
    const r = await runCli(['exec', '--env', `P=aws-ssm:/${name}`, '--env', `T=aws-sm:${name}#token`, '--', 'sh', '-c', 'printf %s "$P" | sha256sum; printf %s "$T" | sha256sum'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(/\s+/).filter((w) => /^[0-9a-f]{64}$/.test(w))).toEqual([sha(param), sha(token)]);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(listDir(box.tmp)).toEqual([]);
    const missing = await runCli(['exec', '--env', 'P=aws-sm:ci/absent', '--', 'true'], { env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('aws-sm:ci/absent: AWS has no secret "ci/absent" in this account and region (ResourceNotFoundException)');
  });
});

describeE2E('examples/stores (real pass store and moto_server)', () => passMissing() || motoMissing(), () => {
  const box = sandbox('secbuild-stores-');
  const tag = `secbuild-stores/example:${nonce()}`;
  const npm = `npm-${nonce()}`;
  const password = `reg-${nonce()}`;
  let moto: Moto;
  let store: PassStore;
  beforeAll(async () => {
    moto = await sharedMoto();
    store = makePassStore(mkdtempSync(join(tmpdir(), 'secbuild-stores-pass-')));
    store.insert('ci/npm-token', Buffer.from(`${npm}\n`));
    moto.aws(['secretsmanager', 'create-secret', '--name', 'ci/registry', '--secret-string', JSON.stringify({ user: 'ci', password })]);
  }, 300_000);
  afterAll(async () => {
    store?.stop();
    await docker(['rmi', '-f', tag]);
    box.cleanup();
  });

  test('secbuild -t app . from examples/stores mounts one secret from each store', async () => {
    const env = baseEnv(box, { ...moto.env, ...store.env });
    const r = await runCli(['--build-arg', `BASE=${BASE}`, '--progress=plain', '--no-cache', '-t', tag, '.'], { env, cwd: join(ROOT, 'examples', 'stores') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`npm_token is ${npm.length} bytes, registry is ${password.length} bytes`);
    expect(r.stdout + r.stderr).not.toContain(npm);
    expect(r.stdout + r.stderr).not.toContain(password);
    expect(listDir(box.tmp)).toEqual([]);
  });
});

// 1Password cannot run here: the op CLI is a recording stand-in (test/helpers/op-standin.ts), first on PATH.
describeE2E('op: store (recording stand-in for the op CLI)', () => {
  const box = sandbox('secbuild-stores-op-');
  afterAll(() => box.cleanup());

  test('secbuild exec hands an op:// field to the command; the command never sees the token (recording stand-in for the op CLI)', async () => {
    const op = makeOpStandin(mkdtempSync(join(tmpdir(), 'secbuild-stores-op-')));
    const value = `op-${nonce()}-välue`;
    op.set('ci/npm/token', value);
    const token = `ops_${nonce()}`;
    const env = baseEnv(box, { PATH: `${op.bin}:${process.env.PATH}`, OP_SERVICE_ACCOUNT_TOKEN: token });
    const r = await runCli(['exec', '--env', 'X=op://ci/npm/token', '--', 'sh', '-c', 'test -n "$X" && test -z "$OP_SERVICE_ACCOUNT_TOKEN" && printf %s "$X" | sha256sum'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(/\s+/)[0]).toBe(sha(value));
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(op.calls().map((c) => c.argv)).toEqual(['read --no-newline op://ci/npm/token']);
    expect(listDir(box.tmp)).toEqual([]);
    const missing = await runCli(['exec', '--env', 'X=op://ci/absent/token', '--', 'true'], { env });
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('op://ci/absent/token: 1Password has no such vault, item or field');
  });
});
