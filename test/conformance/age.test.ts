/**
 * `age:FILE` with `identity=REF`, for real: Debian's age 1.1 and a
 * throw-away key. The spec forms (--secret and secbuild.yml), the identity
 * resolved through its own provider and masked like a value, and the errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ageProvider } from '../../providers/age.js';
import { ProviderError } from '../../providers/types.js';
import { scrubEnv } from '../../src/run/env.js';
import { parseConfig } from '../../src/secrets/config.js';
import { resolveSpecs, sensitiveEnvVars } from '../../src/secrets/resolve.js';
import { parseSecretFlag } from '../../src/secrets/spec.js';
import { ResolveError, UsageError } from '../../src/util/errors.js';
import { onPath, skipUnlessCI } from '../helpers/ci.js';

const skip = skipUnlessCI(onPath('age') ? undefined : 'the age CLI is not installed (apt-get install age)', 'age specifics');

describe.skipIf(skip)('age provider specifics (real age and a throw-away key)', () => {
  let dir: string;
  let identity: Buffer;
  const value = Buffer.from(`age-välue-${process.pid}-${Date.now()}`);
  const env = () => ({ PATH: process.env.PATH, HOME: dir, AGE_KEY: identity.toString() });
  const resolve = (flags: string[]) => {
    const e = env();
    const specs = flags.map((f) => parseSecretFlag(f, e, dir));
    return resolveSpecs(specs, { env: e, childEnv: scrubEnv(e, sensitiveEnvVars(specs)) });
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'secbuild-age-'));
    execFileSync('age-keygen', ['-o', join(dir, 'key.txt')], { stdio: 'ignore' });
    identity = readFileSync(join(dir, 'key.txt'));
    const recipient = execFileSync('age-keygen', ['-y', join(dir, 'key.txt')]).toString().trim();
    execFileSync('age', ['-r', recipient, '-o', join(dir, 'tok.age')], { input: value });
    execFileSync('age-keygen', ['-o', join(dir, 'other.txt')], { stdio: 'ignore' });
    writeFileSync(join(dir, 'plain.age'), 'not age\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each(['file:key.txt', 'env:AGE_KEY'])('--secret id=t,from=age:tok.age,identity=%s decrypts; the identity is among the masked values', async (id) => {
    const r = await resolve([`id=t,from=age:tok.age,identity=${id}`]);
    expect(r.secrets.map((s) => [s.id, s.value.equals(value)])).toEqual([['t', true]]);
    expect(r.values.some((s) => s.value.equals(identity))).toBe(true);
  });

  test('identity=env:VAR is removed from every child environment', () => {
    const spec = parseSecretFlag('id=t,from=age:tok.age,identity=env:AGE_KEY', env(), dir);
    expect([...sensitiveEnvVars([spec])]).toEqual(['AGE_KEY']);
  });

  test('secbuild.yml takes identity: beside from: age:FILE', async () => {
    const { specs } = parseConfig('secrets:\n  t: { from: "age:tok.age", identity: "file:key.txt" }\n', join(dir, 'secbuild.yml'), (t) => parse(t));
    const r = await resolveSpecs(specs, { env: env(), childEnv: scrubEnv(env(), new Set()) });
    expect(r.secrets[0]!.value.equals(value)).toBe(true);
  });

  test.each<[string, RegExp]>([
    ['id=t,from=age:tok.age', /--secret id=t age: needs identity=REF in the same spec/],
    ['id=t,from=env:AGE_KEY,identity=file:key.txt', /identity= is only for age: references; drop it/],
    ['id=t,from=age:tok.age,identity=age:other.age', /identity= cannot itself be an age: reference/],
    ['id=t,src=tok.age,identity=file:key.txt', /identity= goes with from=age:… only/],
  ])('%s is refused before anything runs', (flag, want) => {
    const err = (() => {
      try {
        parseSecretFlag(flag, env(), dir);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(want);
  });

  test.each<[string, string, RegExp]>([
    ['another key', 'file:other.txt', /age:tok\.age: the identity does not decrypt .*tok\.age \(it was encrypted to another recipient\); check identity=/],
    ['a missing identity file', 'file:absent-key.txt', /\(age:tok\.age\): its identity file:absent-key\.txt failed: file .*absent-key\.txt does not exist/],
  ])('an identity that cannot decrypt (%s) fails naming the file, never the key or the value', async (_name, id, want) => {
    const err = await resolve([`id=t,from=age:tok.age,identity=${id}`]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResolveError);
    expect((err as Error).message).toMatch(want);
    expect((err as Error).message).not.toContain('AGE-SECRET-KEY');
    expect((err as Error).message).not.toContain('välue');
  });

  test('a file that is not age, and age not installed, are ProviderErrors that say what to do', async () => {
    const ctx = (path: string) => ({ env: env(), childEnv: scrubEnv({ ...env(), PATH: path }, new Set()), cwd: dir, inputs: { identity } });
    const notAge = await ageProvider.resolve('plain.age', ctx(process.env.PATH!)).catch((e: unknown) => e as Error);
    expect(notAge).toBeInstanceOf(ProviderError);
    expect((notAge as Error).message).toMatch(/^age:plain\.age: age could not read .*plain\.age or the identity/);
    const none = await ageProvider.resolve('tok.age', ctx(dir)).catch((e: unknown) => e as Error);
    expect((none as Error).message).toBe('age:tok.age: the age command was not found on PATH; install it (apt-get install age, brew install age)');
  });

  test('readiness names the age CLI, or says to install it, without decrypting anything', async () => {
    const ready = await ageProvider.readiness({ env: env(), childEnv: scrubEnv(env(), new Set()), refs: [] });
    expect(ready).toMatchObject({ store: 'age', ok: true });
    expect(ready.text).toMatch(/^age v?\d+\.\d+\.\d+ found/);
    const none = await ageProvider.readiness({ env: env(), childEnv: scrubEnv({ ...env(), PATH: dir }, new Set()), refs: [{}] });
    expect(none).toEqual({ store: 'age', ok: false, used: true, text: 'the age command is not installed; age: references will fail until it is (apt-get install age, brew install age)' });
    // No age: reference: not used, and the text says what one would need (doctor: "--  age: not set up (…)").
    const unused = await ageProvider.readiness({ env: env(), childEnv: scrubEnv({ ...env(), PATH: dir }, new Set()), refs: [] });
    expect(unused).toEqual({ store: 'age', ok: false, used: false, text: 'age: references need the age command: apt-get install age, brew install age' });
  });
});
