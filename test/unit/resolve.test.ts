import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ResolveError, UsageError } from '../../src/util/errors.js';
import { MAX_SECRET_BYTES } from '../../src/secrets/limits.js';
import { scrubEnv as childEnvironment } from '../../src/run/env.js';
import { mergeSpecs, resolveSpecs, sensitiveEnvVars } from '../../src/secrets/resolve.js';
import type { FieldValue, SecretSpec } from '../../src/secrets/spec.js';
import { showTyped } from '../../src/util/shown.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'secbuild-resolve-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Extra = Partial<Pick<SecretSpec, 'optional' | 'mount'>>;
const ref = (id: string, from: string, extra: Extra = {}): SecretSpec => {
  const colon = from.indexOf(':');
  return { kind: 'ref', id, optional: false, mount: true, origin: showTyped(`test ${id}`), ref: { scheme: from.slice(0, colon), key: from.slice(colon + 1), baseDir: dir }, ...extra };
};
const secretField = (name: string): FieldValue => ({ kind: 'secret', name, at: showTyped('test field') });
const refField = (from: string): FieldValue => ({ kind: 'ref', ref: { scheme: from.split(':')[0]!, key: from.slice(from.indexOf(':') + 1), baseDir: dir } });

/** Resolves with `vars` added to this process's environment; children get it minus the secret sources. */
function resolve(specs: SecretSpec[], vars: Record<string, string> = {}) {
  const env = { ...process.env, SECBUILD_CMD_TIMEOUT: '10', ...vars };
  return resolveSpecs(specs, { env, childEnv: childEnvironment(env, sensitiveEnvVars(specs)) });
}

async function resolveError(specs: SecretSpec[], vars: Record<string, string> = {}): Promise<ResolveError> {
  const err = await resolve(specs, vars).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ResolveError);
  return err as ResolveError;
}

const text = (s: { value: Buffer }) => s.value.toString('latin1');

describe('resolveSpecs: references', () => {
  test('env, file and cmd values come back byte-exact, in spec order', async () => {
    const raw = Buffer.from([0x00, 0xff, 0x0a, 0x41]);
    await writeFile(join(dir, 'raw.bin'), raw);
    const r = await resolve(
      [ref('e', 'env:TEST_E'), ref('f', 'file:raw.bin'), ref('c', "cmd:printf 'a b\\n\\n'"), ref('s', "cmd:sh -c 'printf %s \"$0\"' x-y")],
      { TEST_E: 'é val' },
    );
    expect(r.secrets.map((s) => s.id)).toEqual(['e', 'f', 'c', 's']);
    expect(r.secrets[0]!.value.equals(Buffer.from('é val', 'utf8'))).toBe(true);
    expect(r.secrets[1]!.value.equals(raw)).toBe(true);
    expect(text(r.secrets[2]!)).toBe('a b');
    expect(text(r.secrets[3]!)).toBe('x-y');
    expect(r.secrets.map((s) => s.source)).toEqual(['env:TEST_E', 'file:raw.bin', "cmd:printf 'a b\\n\\n'", "cmd:sh -c 'printf %s \"$0\"' x-y"]);
    expect(r.skipped).toEqual([]);
  });

  test('references are resolved in parallel (each command waits for the other)', async () => {
    // Sequential resolution would make each command time out waiting for the other's file.
    const waitFor = (mine: string, other: string) =>
      `cmd:sh -c 'touch ${mine}; i=0; while [ ! -e ${other} ] && [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; [ -e ${other} ] && printf ok'`;
    const r = await resolve([ref('a', waitFor('a.flag', 'b.flag')), ref('b', waitFor('b.flag', 'a.flag'))]);
    expect(r.secrets.map(text)).toEqual(['ok', 'ok']);
  });

  test('a config with 40 command references runs at most 8 of them at once (each store CLI is a process: aws is ~1 s of Python)', async () => {
    const log = join(dir, 'parallel.log');
    await writeFile(log, '');
    const specs = Array.from({ length: 40 }, (_, i) => ref(`s${i}`, `cmd:sh -c 'echo + >> ${log}; sleep 0.15; echo - >> ${log}; printf v${i}'`));
    const r = await resolve(specs);
    expect(r.secrets.map(text)).toEqual(specs.map((_, i) => `v${i}`));
    let running = 0;
    let peak = 0;
    for (const l of (await readFile(log, 'utf8')).split('\n').filter(Boolean)) peak = Math.max(peak, (running += l === '+' ? 1 : -1));
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(8);
  });

  test('one reference used by two ids runs once', async () => {
    const counter = join(dir, 'count');
    await writeFile(counter, '');
    const from = `cmd:sh -c 'echo x >> ${counter}; printf v'`;
    const r = await resolve([ref('one', from), ref('two', from)]);
    expect(r.secrets.map(text)).toEqual(['v', 'v']);
    expect((await readFile(counter, 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
  });

  test('every failure is reported in one ResolveError', async () => {
    await writeFile(join(dir, 'ok.txt'), 'fine');
    const err = await resolveError([
      ref('missing_env', 'env:SECBUILD_TEST_UNSET'),
      ref('good', 'file:ok.txt'),
      ref('missing_file', 'file:nope.txt'),
      ref('failing_cmd', "cmd:sh -c 'echo denied >&2; exit 3'"),
      ref('empty', 'env:EMPTY_VAR'),
    ], { EMPTY_VAR: '' });
    expect(err.failures.map((f) => f.id)).toEqual(['missing_env', 'missing_file', 'failing_cmd', 'empty']);
    expect(err.failures.map((f) => f.source)).toEqual(['env:SECBUILD_TEST_UNSET', 'file:nope.txt', "cmd:sh -c 'echo denied >&2; exit 3'", 'env:EMPTY_VAR']);
    expect(err.message).toMatch(/^4 secrets could not be resolved:/);
    expect(err.message).toContain('environment variable SECBUILD_TEST_UNSET is not set');
    expect(err.message).toContain(`file ${join(dir, 'nope.txt')} does not exist`);
    expect(err.message).toMatch(/exited with code 3; its stderr:\ndenied/);
    expect(err.message).toContain('"empty" (env:EMPTY_VAR): the value is empty');
  });

  test('an optional secret that is missing or empty is skipped', async () => {
    const r = await resolve([
      ref('gone', 'env:SECBUILD_TEST_UNSET', { optional: true }),
      ref('blank', 'env:BLANK', { optional: true }),
      ref('here', 'env:HERE', { optional: true }),
    ], { BLANK: '', HERE: 'h' });
    expect(r.secrets.map((s) => s.id)).toEqual(['here']);
    expect(r.skipped).toEqual([
      { id: 'gone', source: 'env:SECBUILD_TEST_UNSET', reason: 'environment variable SECBUILD_TEST_UNSET is not set.' },
      { id: 'blank', source: 'env:BLANK', reason: 'the value is empty.' },
    ]);
  });

  test('an optional secret whose provider fails for another reason is still an error', async () => {
    const err = await resolveError([ref('x', "cmd:sh -c 'exit 1'", { optional: true })]);
    expect(err.failures.map((f) => f.id)).toEqual(['x']);
  });

  test('more than 500 KiB is refused naming the id; exactly 500 KiB is accepted', async () => {
    const err = await resolveError([ref('big', 'env:BIG'), ref('edge', 'env:EDGE')], {
      BIG: 'x'.repeat(MAX_SECRET_BYTES + 1),
      EDGE: 'y'.repeat(MAX_SECRET_BYTES),
    });
    expect(err.failures).toEqual([{ id: 'big', source: 'env:BIG', reason: expect.stringContaining(`${MAX_SECRET_BYTES + 1} bytes; BuildKit accepts at most ${MAX_SECRET_BYTES}`) }]);
  });
});

describe('resolveSpecs: credential files and templates', () => {
  test('netrc, npmrc and templates are fed by named secrets; inputs with mount: false stay inputs', async () => {
    const specs: SecretSpec[] = [
      ref('gh', 'env:GH', { mount: false }),
      ref('npm', "cmd:printf 'npm_tok\\n'", { mount: false }),
      ref('shown', 'env:SHOWN'),
      { kind: 'netrc', id: 'netrc', optional: false, mount: true, origin: showTyped('test'), entries: [{ machine: 'github.com', login: { kind: 'literal', text: 'x' }, password: secretField('gh') }] },
      { kind: 'npmrc', id: 'npmrc', optional: false, mount: true, origin: showTyped('test'), entries: [{ registry: 'https://r.example/', token: secretField('npm') }] },
      { kind: 'template', id: 'conf', optional: false, mount: true, origin: showTyped('test'), path: join(dir, 'conf.tmpl'), text: 'u=${shown}\np=${gh}\n' },
    ];
    const r = await resolve(specs, { GH: 'ghp_1\n', SHOWN: 's' });
    expect(r.secrets.map((s) => [s.id, text(s)])).toEqual([
      ['shown', 's'],
      ['netrc', 'machine github.com\n  login x\n  password ghp_1\n'],
      ['npmrc', '//r.example/:_authToken=npm_tok\n'],
      ['conf', 'u=s\np=ghp_1\n'],
    ]);
    expect(r.values.map((s) => s.id)).toEqual(['gh', 'npm', 'shown']);
  });

  test('a template read from its file; a placeholder naming no secret is a usage error with file:line', async () => {
    const path = join(dir, 'pip.conf.tmpl');
    await writeFile(path, '[global]\nindex-url = https://u:${tok}@pypi.example/\n# ${undeclared}\n');
    const spec: SecretSpec = { kind: 'template', id: 'pip', optional: false, mount: true, origin: showTyped('test'), path };
    const err = await resolve([ref('tok', 'env:TOK'), spec], { TOK: 't' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toContain(`${path}:3: placeholder \${undeclared} names no secret`);
    await writeFile(path, '[global]\nindex-url = https://u:${tok}@pypi.example/\n');
    expect(text((await resolve([ref('tok', 'env:TOK', { mount: false }), spec], { TOK: 't' })).secrets[0]!)).toBe('[global]\nindex-url = https://u:t@pypi.example/\n');
  });

  test('no error message contains a secret value', async () => {
    const values = { SPACED: 'Sp4ced Secret-Value', MULTI: 'LineOne-Secret\nLineTwo-Secret', HUGE: 'HugeSecret'.repeat(60_000) };
    const err = await resolveError([
      ref('spaced', 'env:SPACED', { mount: false }),
      ref('multi', 'env:MULTI', { mount: false }),
      ref('huge', 'env:HUGE'),
      ref('gone', 'env:SECBUILD_TEST_UNSET'),
      { kind: 'netrc', id: 'netrc', optional: false, mount: true, origin: showTyped('test'), entries: [{ machine: 'h', login: refField('env:SPACED'), password: secretField('spaced') }] },
      { kind: 'npmrc', id: 'npmrc', optional: false, mount: true, origin: showTyped('test'), entries: [{ registry: 'https://r/', token: refField('env:SECBUILD_TEST_UNSET') }] },
      { kind: 'template', id: 'tmpl', optional: false, mount: true, origin: showTyped('test'), path: 't', text: 'a=${multi}\nb=${gone}\n' },
    ], values);
    expect(err.failures.map((f) => f.id)).toEqual(['gone', 'netrc', 'npmrc', 'tmpl', 'huge']);
    for (const v of Object.values(values)) for (const part of v.split(/\s+/)) expect(err.message).not.toContain(part.slice(0, 40));
    expect(err.message).not.toMatch(/\.\.(\n|$)/);
  });
});

describe('mergeSpecs', () => {
  const c = (id: string) => ref(id, `env:CONFIG_${id.toUpperCase()}`);
  const l = (id: string) => ({ ...ref(id, `env:CLI_${id.toUpperCase()}`), origin: showTyped(`--secret id=${id}`) });

  test('a CLI spec replaces the config spec of the same id, in the config position', () => {
    const merged = mergeSpecs([c('a'), c('b')], [l('b'), l('z')]);
    expect(merged.map((s) => [s.id, s.origin])).toEqual([['a', 'test a'], ['b', '--secret id=b'], ['z', '--secret id=z']]);
  });

  test('an id given twice on the command line is refused, naming both', () => {
    expect(() => mergeSpecs([c('a')], [l('a'), { ...l('a'), origin: showTyped('--netrc') }])).toThrow(UsageError);
    expect(() => mergeSpecs([], [l('x'), { ...l('x'), origin: showTyped('--npmrc') }])).toThrow(/secret id "x" is given twice on the command line \(--secret id=x and --npmrc\)/);
  });
});

describe('sensitiveEnvVars and childEnvironment', () => {
  test('collects variables of env: references, netrc/npmrc fields included, nothing else', () => {
    const specs: SecretSpec[] = [
      ref('a', 'env:A_VAR'),
      ref('f', 'file:x'),
      ref('c', 'cmd:true'),
      ref('k', 'keychain:s/a'),
      { kind: 'netrc', id: 'netrc', optional: false, mount: true, origin: showTyped('t'), entries: [{ machine: 'h', login: refField('env:LOGIN_VAR'), password: refField('env:PASS_VAR') }] },
      { kind: 'npmrc', id: 'npmrc', optional: false, mount: true, origin: showTyped('t'), entries: [{ registry: 'https://r/', token: refField('env:NPM_VAR') }] },
    ];
    expect([...sensitiveEnvVars(specs)].sort()).toEqual(['A_VAR', 'LOGIN_VAR', 'NPM_VAR', 'PASS_VAR']);
  });

  test('store references: AWS credentials stay for docker and exec (ECR helpers, exec -- aws); Vault and 1Password tokens go', () => {
    const env = { PATH: '/bin', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_SESSION_TOKEN: 'c', AWS_PROFILE: 'p', VAULT_TOKEN: 't', VAULT_SECRET_ID: 's', OP_SERVICE_ACCOUNT_TOKEN: 'o' };
    const stores = [ref('a', 'aws-sm:ci/npm#token'), ref('b', 'aws-ssm:/ci/npm'), ref('v', 'vault:secret/ci#x'), ref('o', 'op://v/i/f')];
    expect(Object.keys(childEnvironment(env, sensitiveEnvVars(stores))).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'PATH']);
    // Read as a secret through env:, an AWS variable is removed like any other.
    expect(Object.keys(childEnvironment(env, sensitiveEnvVars([ref('k', 'env:AWS_SECRET_ACCESS_KEY')])))).not.toContain('AWS_SECRET_ACCESS_KEY');
  });

  test('childEnvironment drops exactly the sensitive variables and does not touch its input', () => {
    const env = { PATH: '/bin', A_VAR: 'secret', HOME: '/h', EMPTY: '' };
    expect(childEnvironment(env, new Set(['A_VAR', 'NOT_SET']))).toEqual({ PATH: '/bin', HOME: '/h', EMPTY: '' });
    expect(env.A_VAR).toBe('secret');
  });

  test('a cmd: reference does not see the variables other secrets are read from', async () => {
    const r = await resolve([ref('tok', 'env:SOURCE_VAR'), ref('seen', "cmd:sh -c 'printf %s \"${SOURCE_VAR-unset}\"'")], { SOURCE_VAR: 'abc' });
    expect(text(r.secrets[1]!)).toBe('unset');
  });
});
