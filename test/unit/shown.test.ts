/**
 * Typed text secbuild prints (src/util/shown.ts, trust round 3 item 3): a
 * credential typed where a reference, a variable name or a secret id belongs
 * is never echoed — not in parse errors, not in a resolved secret's source,
 * not in a provider's reason — while ordinary references print as typed.
 */
import { describe, expect, test, vi } from 'vitest';
import { describeRef, parseRef } from '../../providers/index.js';
import { scrubEnv } from '../../src/run/env.js';
import { resolveSpecs } from '../../src/secrets/resolve.js';
import { looksLikeCredential, showTyped } from '../../src/util/shown.js';
import { masked, setOutputFilter } from '../../src/util/log.js';
import { groupEntries, parseNetrcFlag, parseNpmrcFlag, parseSecretFlag } from '../../src/secrets/spec.js';
import { parseConfig } from '../../src/secrets/config.js';
import { parse } from 'yaml';
import { splitFormat } from '../../src/args/check.js';
import { parseComposeArgs } from '../../src/args/compose.js';
import { parseExecArgs } from '../../src/args/exec.js';
import { parseVerifyArgs } from '../../src/args/verify.js';
import { runCli } from '../../src/cli/router.js';
import { askedEngine } from '../../src/engines/select.js';

const GHP = `ghp_${'a1B2c3D4e5'.repeat(3)}x9Y8z7`; // ghp_ + 36
const BARE = 'hunter2secret';

describe('looksLikeCredential / showTyped', () => {
  test.each([
    [GHP, true], ['npm_' + 'Ab1'.repeat(12), true], ['glpat-' + 'x'.repeat(20), true], ['AKIAIOSFODNN7EXAMPLE', true],
    ['eyJhbGciOiJIUzI1NiJ9', true], ['a'.repeat(40), true], ['Zq8rT2kLm9Xw4Ys7', true],
    ['NPM_TOKEN', false], ['GITHUB_TOKEN', false], ['npm', false], ['ci', false], ['token.txt', false], ['SECBUILD_TEST_TOKEN_1', false], ['x-access-token', false],
  ])('%s → %s', (word, want) => {
    expect(looksLikeCredential(word)).toBe(want);
  });

  test.each([
    ['env:NPM_TOKEN', 'env:NPM_TOKEN'],
    ['file:~/.config/gh/token', 'file:~/.config/gh/token'],
    ['keychain:npm/ci', 'keychain:npm/ci'],
    ['cmd:op read op://ci/api/key', 'cmd:op read op://ci/api/key'],
    [`env:${GHP}`, 'env:<hidden>'],
    [`cmd:printf ${GHP}`, 'cmd:printf <hidden>'],
    ['file:a\nb', 'file:a b'],
    // C1 as well as C0: U+009B is CSI to a terminal that reads UTF-8 (as api-save.ts messageOf strips it).
    ['file:a\u009b31mred\u0085b', 'file:a 31mred b'],
  ])('showTyped(%j) is %j', (text, want) => {
    expect(showTyped(text)).toBe(want);
  });
});

/** Every way a credential can be typed where a reference belongs: the error never holds it. */
describe('a credential typed where a reference belongs is reported by field and position', () => {
  const parsers: Array<[string, () => unknown]> = [
    ['--secret from=TOKEN', () => parseSecretFlag(`id=x,from=${GHP}`, {}, '/w')],
    ['--secret from=env:TOKEN-WITH-DASH', () => parseSecretFlag(`id=x,from=env:${GHP}-x`, {}, '/w')],
    ['--secret env=TOKEN-WITH-DASH', () => parseSecretFlag(`id=x,env=${GHP}-x`, {}, '/w')],
    ['--secret type=env,src=TOKEN-WITH-DASH', () => parseSecretFlag(`id=x,type=env,src=${GHP}-x`, {}, '/w')],
    ['--secret optional=TOKEN', () => parseSecretFlag(`id=x,from=env:A,optional=${GHP}`, {}, '/w')],
    ['--secret type=TOKEN', () => parseSecretFlag(`id=x,type=${GHP}`, {}, '/w')],
    ['--secret a bare field', () => parseSecretFlag(`id=x,${GHP}`, {}, '/w')],
    ['--npmrc token=a:b', () => parseNpmrcFlag(`registry=https://r/,token=x:${GHP}`, '/w')],
    ['--netrc password=env:BAD-NAME', () => parseNetrcFlag(`machine=h,login=l,password=env:${GHP}-x`, '/w')],
    ['--netrc machine with a space', () => parseNetrcFlag(`machine=h ${GHP},login=l,password=env:P`, '/w')],
    ['parseRef, an unknown scheme', () => parseRef(`${GHP}:x`, '/w', 'here')],
    ['secbuild.yml from:', () => parseConfig(`secrets:\n  a: { from: "${GHP}" }\n`, '/c.yml', (t) => parse(t))],
    ['secbuild.yml netrc password: a bare word', () => parseConfig(`netrc: [{ machine: h, login: l, password: ${GHP} }]\n`, '/c.yml', (t) => parse(t))],
    ['secbuild.yml npmrc token: a bare word', () => parseConfig(`npmrc: [{ registry: "https://r/", token: ${BARE} }]\n`, '/c.yml', (t) => parse(t))],
    // Flags that take a name or a word: a credential pasted there is not echoed either.
    ['exec --env TOKEN (no "=")', () => parseExecArgs(['--env', GHP, '--', 'true'])],
    ['exec --env TOKEN-WITH-DASH=REF', () => parseExecArgs(['--env', `${GHP}-x=env:A`, '--', 'true'])],
    ['check --format TOKEN', () => splitFormat(['--format', GHP, '.'])],
    ['verify --format TOKEN', () => parseVerifyArgs(['--format', GHP, 'img'])],
    ['compose --engine TOKEN', () => parseComposeArgs(['build', '--engine', GHP])],
    ['--engine TOKEN', () => askedEngine({ builder: GHP }, {})],
    ['SECBUILD_ENGINE=TOKEN', () => askedEngine({}, { SECBUILD_ENGINE: GHP })],
  ];
  test.each(parsers)('%s', (_name, run) => {
    let message = '';
    try {
      run();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).not.toBe('');
    expect(message).not.toContain(GHP);
    expect(message).not.toContain(BARE);
  });

  test('--npmrc #2 token=WORD naming no secret: the resolve error names the flag and field, not the word', async () => {
    const specs = groupEntries('npmrc', [parseNpmrcFlag('registry=https://a/,token=env:A', '/w', 0), parseNpmrcFlag(`registry=https://b/,token=${GHP}`, '/w', 1)]);
    const err = await resolveSpecs(specs, { env: { A: 'aaaa' }, childEnv: scrubEnv({}, new Set()) }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^--npmrc #2 token= names no secret declared with from:/);
    expect(err?.message).not.toContain(GHP);
  });

  test('--netrc password=WORD naming no secret: the same', async () => {
    const specs = groupEntries('netrc', [parseNetrcFlag(`machine=h,login=l,password=${BARE}`, '/w')]);
    const err = await resolveSpecs(specs, { env: {}, childEnv: scrubEnv({}, new Set()) }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^--netrc password= names no secret/);
    expect(err?.message).not.toContain(BARE);
  });

  test('env:TOKEN (a valid name that is a credential): its source and the reason hide it', async () => {
    const spec = parseSecretFlag(`id=x,from=env:${GHP}`, {}, '/w');
    expect(spec.kind === 'ref' && describeRef(spec.ref)).toBe('env:<hidden>');
    const res = await resolveSpecs([spec], { env: {}, childEnv: scrubEnv({}, new Set()) }, { keepGoing: true });
    expect(res.failures).toEqual([{ id: 'x', source: 'env:<hidden>', reason: expect.stringContaining('environment variable <hidden> is not set') }]);
    expect(JSON.stringify(res)).not.toContain(GHP);
  });
});

test("commander's own errors (secrets, doctor, clean, secret) do not echo a credential in an unknown --flag=VALUE", async () => {
  let printed = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed += String(chunk);
    return true;
  });
  try {
    await runCli(['secrets', `--secert=id=x,from=env:${GHP}`], '0.0.0').catch(() => {});
  } finally {
    spy.mockRestore();
  }
  expect(printed).toContain("unknown option '--secert=id=x,from=env:<hidden>'");
  expect(printed).not.toContain(GHP);
});

describe("secbuild's own output (masked(): stderr lines, errors, --dry-run, reports) carries no control character of foreign text", () => {
  test.each<[string, string]>([
    ['a Vault mount path with a CSI sequence and an OSC title', 'the mount secret/ci\u001b[2J\u001b]0;pwned\u0007/ itself'],
    ['a carriage return that would overwrite the line', 'cannot read /x\rsecbuild: all good'],
    ['a C1 CSI (U+009B)', 'path \u009b31mred'],
    ['DEL and NUL', 'a\u007fb\u0000c'],
  ])('%s: made spaces, line breaks and tabs kept', (_name, text) => {
    const out = masked(`${text}\nsecond line\tcolumn`);
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain('\nsecond line\tcolumn');
  });

  test('with the redactor installed too', () => {
    setOutputFilter((t) => t.replaceAll('s3cret', '***'));
    try {
      expect(masked('s3cret\u001b[31m\n')).toBe('*** [31m\n');
    } finally {
      setOutputFilter((t) => t);
    }
  });
});
