/**
 * `op:` specifics. 1Password cannot run here, so every test runs against a
 * recording stand-in for the op CLI (test/helpers/op-standin.ts), which
 * answers `op read` as op documents it and records argv and environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { opProvider } from '../../providers/op.js';
import { MissingSecret, ProviderError, type ResolveContext } from '../../providers/types.js';
import { scrubEnv } from '../../src/run/env.js';
import { childEnvFor } from '../../src/secrets/plan.js';
import { parseSecretFlag } from '../../src/secrets/spec.js';
import { makeOpStandin, type OpStandin } from '../helpers/op-standin.js';

const TOKEN = `ops_${randomBytes(12).toString('hex')}`;
const VALUE = `s3cr3t-${randomBytes(6).toString('hex')}`;
let op: OpStandin;
let dir: string;
const ctx = (extra: Record<string, string | undefined> = {}): ResolveContext => {
  const env: NodeJS.ProcessEnv = { PATH: `${op.bin}:/usr/bin:/bin`, HOME: dir, OP_SERVICE_ACCOUNT_TOKEN: TOKEN, ...extra };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return { env, childEnv: scrubEnv(env, new Set(opProvider.envVars())), cwd: dir };
};
/** readiness's context: no op: reference in the specs. */
const ready = (extra?: Record<string, string | undefined>) => ({ ...ctx(extra), refs: [] });
const fail = async (key: string, extra?: Record<string, string | undefined>) => {
  const err = await opProvider.resolve(key, ctx(extra)).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(Error);
  const msg = (err as Error).message;
  expect(msg).not.toContain(TOKEN);
  expect(msg).not.toContain(VALUE);
  expect(msg).not.toContain('[ERROR]'); // op's stderr is never quoted
  return err as Error;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secbuild-op-'));
  op = makeOpStandin(dir);
  op.set('ci/npm/token', VALUE);
  op.set('ci/npm/publish/otp', `${VALUE}-section`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('op provider specifics (recording stand-in for the op CLI)', () => {
  test.each<[string, string]>([
    ['//ci/npm/token', VALUE],
    ['//ci/npm/publish/otp', `${VALUE}-section`],
    ['ci/npm/token', VALUE],
  ])('op:%s → the field, without a newline (recording stand-in for the op CLI)', async (key, want) => {
    expect(opProvider.check(key)).toBeUndefined();
    expect((await opProvider.resolve(key, ctx())).toString('utf8')).toBe(want);
  });

  test('argv is read --no-newline and the reference, never a value (recording stand-in for the op CLI)', async () => {
    const before = op.calls().length;
    await opProvider.resolve('ci/npm/token', ctx());
    const call = op.calls()[before]!;
    expect(call.argv).toBe('read --no-newline op://ci/npm/token');
    expect(call.argv).not.toContain(VALUE);
  });

  test('op gets the token and what it needs, no other secret-source variable (recording stand-in for the op CLI)', async () => {
    const before = op.calls().length;
    await opProvider.resolve('//ci/npm/token', ctx({ OP_ACCOUNT: 'team', AWS_SECRET_ACCESS_KEY: 'x', VAULT_TOKEN: 'y', SECBUILD_CACHE_KEY: 'z', OTHER: 'o' }));
    const names = op.calls()[before]!.env.filter((n) => !['PWD', 'SHLVL', '_'].includes(n)).sort();
    expect(names).toEqual(['HOME', 'OP_ACCOUNT', 'OP_SERVICE_ACCOUNT_TOKEN', 'PATH']);
  });

  test('every other child: OP_SERVICE_ACCOUNT_TOKEN and OP_CONNECT_TOKEN removed when an op: reference is used (recording stand-in for the op CLI)', () => {
    const env = { PATH: '/usr/bin', OP_SERVICE_ACCOUNT_TOKEN: TOKEN, OP_CONNECT_TOKEN: 'c', HOME: '/h' };
    const child = childEnvFor(env, [parseSecretFlag('id=npm,from=op://ci/npm/token', env, dir)]);
    expect(child.OP_SERVICE_ACCOUNT_TOKEN).toBeUndefined();
    expect(child.OP_CONNECT_TOKEN).toBeUndefined();
    expect(child.HOME).toBe('/h');
  });

  test('every other child: an op signin session token (OP_SESSION_<account>) removed too, op still gets it (recording stand-in for the op CLI)', async () => {
    const env = { PATH: '/usr/bin', OP_SESSION_my_team: 'sess-token', OP_SESSIONLESS: 'kept', HOME: '/h' };
    const child = childEnvFor(env, [parseSecretFlag('id=npm,from=op://ci/npm/token', env, dir)]);
    expect(child.OP_SESSION_my_team).toBeUndefined();
    expect(child.OP_SESSIONLESS).toBe('kept');
    const before = op.calls().length;
    await opProvider.resolve('ci/npm/token', ctx({ OP_SESSION_my_team: 'sess-token' }));
    expect(op.calls()[before]!.env).toContain('OP_SESSION_my_team');
  });

  test('no such item or field: MissingSecret naming the reference (recording stand-in for the op CLI)', async () => {
    for (const key of ['//ci/absent/token', '//ci/npm/absent']) {
      const err = await fail(key);
      expect(err).toBeInstanceOf(MissingSecret);
      expect(err.message).toBe(`op:${key}: 1Password has no such vault, item or field for this account; check the reference (copy it from the app with "Copy Secret Reference")`);
    }
  });

  test('not signed in: a ProviderError naming OP_SERVICE_ACCOUNT_TOKEN (recording stand-in for the op CLI)', async () => {
    const err = await fail('//ci/npm/token', { OP_SERVICE_ACCOUNT_TOKEN: undefined });
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/^op:\/\/ci\/npm\/token: op is not signed in; set OP_SERVICE_ACCOUNT_TOKEN/);
  });

  test('op not installed: a ProviderError saying where to get it (recording stand-in for the op CLI)', async () => {
    const err = await fail('//ci/npm/token', { PATH: dir });
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/^op:\/\/ci\/npm\/token: the op command was not found on PATH; install 1Password's CLI from https:\/\/developer\.1password\.com.*not a Debian package/);
  });

  test.each(['//ci/npm', '//ci/a/b/c/d', '//ci//token', 'ci/npm/to\nken'])('invalid reference %j is refused before op runs (recording stand-in for the op CLI)', (key) => {
    expect(opProvider.check(key)).toMatch(/write op:\/\/VAULT\/ITEM\/FIELD|empty|control character/);
  });

  test('readiness: op found and a credential set, without reading a value (recording stand-in for the op CLI)', async () => {
    const before = op.calls().length;
    const answer = await opProvider.readiness(ready());
    expect(answer).toEqual({ store: '1password', ok: true, used: true, text: 'op 2.30.0, sign-in by a service account (OP_SERVICE_ACCOUNT_TOKEN) (not checked with 1Password: nothing is read)' });
    expect(op.calls().slice(before).map((c) => c.argv)).toEqual(['--version']);
    expect((await opProvider.readiness(ready({ OP_SERVICE_ACCOUNT_TOKEN: undefined }))).ok).toBe(false);
    expect((await opProvider.readiness(ready({ OP_SERVICE_ACCOUNT_TOKEN: undefined, OP_ACCOUNT: 'team' }))).ok).toBe(true);
    expect((await opProvider.readiness(ready({ PATH: dir }))).text).toBe("the op command is not installed, so op: references will fail; install 1Password's CLI from https://developer.1password.com/docs/cli/get-started/ (not a Debian package; on macOS: brew install 1password-cli)");
  });
});
