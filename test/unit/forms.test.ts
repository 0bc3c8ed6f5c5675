/**
 * The secret-forms module (src/secrets/forms.ts) is the one definition of a
 * value's encoded forms. These tests hold masking (the redactor), verify (the
 * image search), the build-arg guard and `::add-mask::` to it: whatever form
 * one of them knows, all of them know.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { carriedSecret } from '../../src/guards/build-args.js';
import { addMaskCommands } from '../../src/guards/github.js';
import { Redactor } from '../../src/guards/redact.js';
import { formsOf, patternsFor } from '../../src/secrets/forms.js';
import { Secret } from '../../src/secrets/secret.js';
import { Search } from '../../src/verify/search.js';
import { rng } from './rng.js';

const b = (s: string) => Buffer.from(s, 'utf8');

function redact(secrets: Secret[], text: Buffer): Buffer {
  const out: Buffer[] = [];
  const r = new Redactor(patternsFor(secrets), (chunk) => out.push(Buffer.from(chunk)), { idleMs: 0 });
  r.write(text);
  r.end();
  return Buffer.concat(out);
}

function found(secrets: Secret[], text: Buffer): boolean {
  const search = new Search(patternsFor(secrets));
  search.bytes(text, () => ({ kind: 'blob', blob: 'x' }));
  return search.hits.length > 0;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

// A token file written with `echo`, `gh auth token > f` or `secret-tool store` from echo ends in "\n".
const pw = new Secret('pw', 'file:pw.txt', b('p@ss/w0rd+Secret!\n'));
const tok = new Secret('tok', 'file:tok.txt', b('ghp_R4nd0mT0k3nValue\n'));

describe('a newline-terminated secret: every encoded form is of the value as tools read it', () => {
  // What shells ($(cat f)) and secbuild's own templates make of the value: the trailing newline dropped.
  const cases: Array<[string, Secret, string]> = [
    ['${pw|url} in a pip.conf index URL', pw, `index-url = https://ci:${encodeURIComponent('p@ss/w0rd+Secret!')}@pypi.example/simple`],
    ['npm _auth = base64("user:" + token)', tok, `_auth=${b64('user:ghp_R4nd0mT0k3nValue')}`],
    ['docker config.json auth at another alignment', tok, `"auth":"${b64('ab:ghp_R4nd0mT0k3nValue')}"`],
    ['base64("user:TOKEN\\n") inside a blob', tok, b64('x-access-token:ghp_R4nd0mT0k3nValue\n')],
    ['URL-safe base64, unpadded', tok, b64url('ghp_R4nd0mT0k3nValue')],
    ['JSON-escaped', pw, JSON.stringify({ p: 'p@ss/w0rd+Secret!' })],
    ['the trimmed value itself', tok, 'token is ghp_R4nd0mT0k3nValue.'],
  ];
  test.each(cases)('%s is masked, found by verify and refused as a build-arg', (_name, secret, text) => {
    const masked = redact([secret], b(text)).toString('latin1');
    expect(masked).toContain('***');
    expect(found([secret], b(text))).toBe(true);
    expect(carriedSecret(text, [secret])?.id).toBe(secret.id);
  });

  test('--build-arg GH_PAT="$(cat tok.txt)" carries the secret', () => {
    expect(carriedSecret('ghp_R4nd0mT0k3nValue', [tok])?.id).toBe('tok');
  });

  test('masking a value that ends in \\n keeps the line end: two docker lines stay two lines', () => {
    expect(redact([tok], b('#5 token ghp_R4nd0mT0k3nValue\n#6 next line\n')).toString()).toBe('#5 token ***\n#6 next line\n');
  });

  test('::add-mask:: registers the trimmed value, escaped as the runner requires', () => {
    const multi = new Secret('m', 'env:M', b('line-one%\r\nline-two\n'));
    const lines = addMaskCommands(patternsFor([tok, multi])).split('\n');
    expect(lines).toContain('::add-mask::ghp_R4nd0mT0k3nValue');
    expect(lines).toContain('::add-mask::line-one%25%0D%0Aline-two');
    expect(lines.every((l) => l === '' || l.startsWith('::add-mask::'))).toBe(true);
  });
});

describe('property: every form is masked by the redactor, found by verify and refused by the guard', () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=_-@:%"\\<>&\' ';
  test.each(Array.from({ length: 40 }, (_, i) => i + 1))('seed %i', (seed) => {
    const next = rng(seed);
    const n = 6 + next(30);
    let text = Array.from({ length: n }, () => alphabet[next(alphabet.length)]).join('');
    if (next(2)) text += next(2) ? '\n' : '\r\n';
    const secret = new Secret('s', 'env:S', b(text));
    for (const form of formsOf(secret.value)) {
      if (form.bytes.length < 4) continue;
      const pad = (k: number) => Buffer.from(Array.from({ length: k }, () => 0x21 + next(90)).filter((c) => c !== 0x5c && c !== 0x22));
      const blob = Buffer.concat([b('<<'), pad(next(4)), form.bytes, pad(next(4)), b('>>')]);
      const where = `${form.form} ${JSON.stringify(form.bytes.toString('latin1'))}`;
      expect(redact([secret], blob).includes(form.bytes), `masked: ${where}`).toBe(false);
      expect(found([secret], blob), `verify: ${where}`).toBe(true);
      expect(carriedSecret(blob.toString('latin1'), [secret])?.id, `guard: ${where}`).toBe('s');
    }
  });
});

describe('an SSH or TLS private key (a PEM block): its body lines, joined body and decoded body', () => {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const key = new Secret('ssh:default', 'env:DEPLOY_KEY', b(pem));
  const lines = pem.trim().split('\n').slice(1, -1);
  const joined = lines.join('');
  const der = Buffer.from(joined, 'base64');
  // [what, the text, the part of it that must not survive masking]
  const cases: Array<[string, Buffer, Buffer]> = [
    ['one body line in a log', b(`debug: ${lines[5]}\n`), b(lines[5]!)],
    ['the last (short) body line', b(`x ${lines.at(-1)} y`), b(lines.at(-1)!)],
    ['the body joined into one line (echo without quotes, a CI variable)', b(`KEY=${joined}`), b(joined)],
    ['the body decoded (the key written as DER)', Buffer.concat([b('\0\0'), der, b('\0')]), der],
  ];
  test.each(cases)('%s is masked and found by verify', (_name, text, part) => {
    expect(redact([key], text).includes(part)).toBe(false);
    expect(found([key], text)).toBe(true);
  });

  test('a build-arg carrying the key joined into one line is refused', () => {
    expect(carriedSecret(`K=${joined}`, [key])?.id).toBe('ssh:default');
  });

  test('the forms of a key: pem forms exist only for a PEM block', () => {
    expect(formsOf(key.value).filter((f) => f.form === 'pem').map((f) => f.bytes.length)).toEqual([joined.length, Buffer.from(joined, 'base64').length]);
    expect(formsOf(b('-----BEGIN NOTHING\nabc\n')).some((f) => f.form === 'pem')).toBe(false);
  });
});

describe('JSON \\uXXXX escapes: a value printed by Go, Python, .NET or Jackson as JSON is masked, found and refused', () => {
  const hex = (n: number, upper: boolean) => (upper ? n.toString(16).toUpperCase() : n.toString(16)).padStart(4, '0');
  /** A JSON string body as an encoder writes it: `escape` says which characters become \uXXXX (UTF-16 units, so astral ones are a surrogate pair). */
  const encode = (text: string, escape: (c: string) => boolean, upper: boolean, shortBF = true): string => {
    let out = '';
    for (const c of text) {
      const cp = c.codePointAt(0)!;
      const u = () => [...Array(c.length).keys()].map((i) => `\\u${hex(c.charCodeAt(i), upper)}`).join('');
      if (c === '"') out += escape(c) ? u() : '\\"';
      else if (c === '\\') out += '\\\\';
      else if (c === '\n') out += '\\n';
      else if (c === '\r') out += '\\r';
      else if (c === '\t') out += '\\t';
      else if ((c === '\b' || c === '\f') && shortBF) out += c === '\b' ? '\\b' : '\\f';
      else if (cp < 0x20 || escape(c)) out += u();
      else out += c;
    }
    return out;
  };
  const nonAscii = (c: string) => c.codePointAt(0)! >= 0x7f;
  const encoders: Array<[string, (t: string) => string]> = [
    ["Go's encoding/json (HTML-safe: \\u0026 \\u003c \\u003e, U+2028/9)", (t) => encode(t, (c) => '&<>\u2028\u2029'.includes(c), false)],
    ['Go before 1.22 (\\b and \\f as \\u0008 \\u000c)', (t) => encode(t, (c) => '&<>\u2028\u2029'.includes(c), false, false)],
    ["Python's json.dumps (ensure_ascii: \\u00e4, astral as a surrogate pair)", (t) => encode(t, nonAscii, false)],
    ["Jackson's ESCAPE_NON_ASCII (upper-case hex)", (t) => encode(t, nonAscii, true)],
    ["System.Text.Json's default encoder (\"&'+<>` and non-ASCII, upper-case hex)", (t) => encode(t, (c) => "\"&'+<>`".includes(c) || nonAscii(c), true)],
    ['the same in lower-case hex', (t) => encode(t, (c) => "\"&'+<>`".includes(c) || nonAscii(c), false)],
  ];
  const values = ['p&ss<w>rd', "it's-a-Pässwörd", 'tök€n-😀-value', 'ctl\u0001\b\f-value', 'a\u2028b-line'];
  test.each(encoders.flatMap(([name, enc]) => values.map((v) => [name, v, enc] as const)))('%s of %j', (_name, value, enc) => {
    const secret = new Secret('s', 'env:S', b(value));
    const printed = enc(value);
    const text = b(`{"token":"${printed}","n":1}\n`);
    expect(redact([secret], text).includes(b(printed)), printed).toBe(false);
    expect(found([secret], text), printed).toBe(true);
    expect(carriedSecret(text.toString('utf8'), [secret])?.id, printed).toBe('s');
  });

  test('property: random values with escapable characters, through every encoder', () => {
    const alphabet = ['a', 'Z', '7', '&', '<', '>', "'", '"', '\\', 'ä', '€', '😀', '\u0001', '\u007f', '\u2028', '+', '`', ' ', '/'];
    for (let seed = 1; seed <= 30; seed++) {
      const next = rng(seed);
      const value = Array.from({ length: 4 + next(12) }, () => alphabet[next(alphabet.length)]).join('');
      const secret = new Secret('s', 'env:S', b(value));
      for (const [name, enc] of encoders) {
        const printed = enc(value);
        const text = b(`x=${printed};`);
        expect(redact([secret], text).includes(b(printed)), `${name}: ${JSON.stringify(value)}`).toBe(false);
        expect(found([secret], text), `${name}: ${JSON.stringify(value)}`).toBe(true);
      }
    }
  });
});

describe("a value with a quote or backslash as shells, YAML and nested JSON quote it: masked, found and refused", () => {
  // bash's `set -x` prints a word holding ' as 'it'\''s'; Python's shlex.quote as 'it'"'"'s'; YAML and SQL
  // single-quoted strings double it; Python's repr and JS source write \'; JSON inside a JSON string escapes twice.
  const quoters: Array<[string, (v: string) => string]> = [
    ["bash set -x / sh quoting ('\\'')", (v) => `'${v.replace(/'/g, "'\\''")}'`],
    ["Python shlex.quote ('\"'\"')", (v) => `'${v.replace(/'/g, `'"'"'`)}'`],
    ["YAML / SQL single-quoted ('')", (v) => `'${v.replace(/'/g, "''")}'`],
    ["Python repr / JS single-quoted source (\\')", (v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`],
    ['JSON inside a JSON string', (v) => JSON.stringify(JSON.stringify(v))],
  ];
  const values = ["it's-a-Secr3t", 'pa"ss\\w0rd-x', "o'k\"b\\c-d'e"];
  test.each(quoters.flatMap(([name, q]) => values.map((v) => [name, v, q] as const)))('%s of %j', (_name, value, q) => {
    const secret = new Secret('s', 'env:S', b(value));
    const printed = q(value);
    const text = b(`+ curl -u ${printed} https://x\n`);
    expect(redact([secret], text).includes(b(printed)), printed).toBe(false);
    expect(found([secret], text), printed).toBe(true);
    expect(carriedSecret(text.toString('utf8'), [secret])?.id, printed).toBe('s');
  });
});
