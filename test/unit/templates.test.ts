import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { scrubEnv } from '../../src/run/env.js';
import { resolveSpecs } from '../../src/secrets/resolve.js';
import type { NetrcEntry, NpmrcEntry, SecretSpec } from '../../src/secrets/spec.js';
import { UsageError } from '../../src/util/errors.js';
import { trimNewlines as dropTrailingNewline } from '../../src/secrets/forms.js';
import { FieldError, renderNetrc, renderNpmrc, renderTemplate, TemplateError, templateNames, type FieldLookup } from '../../src/secrets/render.js';
import { showTyped } from '../../src/util/shown.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const lit = (text: string) => ({ kind: 'literal', text }) as const;
/** Non-UTF-8 bytes (0xff, 0xfe, a lone continuation byte): must come out unchanged. */
const RAW = Buffer.from([0x61, 0xff, 0xfe, 0x80, 0x7a]);

/** Looks values up by `${which}${index}` in a table. */
const lookup = (table: Record<string, Buffer>): FieldLookup => (_f, which, i) => {
  const v = table[`${which}${i}`];
  if (!v) throw new Error(`no test value for ${which}${i}`);
  return v;
};

function fieldError(fn: () => unknown): FieldError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FieldError);
    return err as FieldError;
  }
  throw new Error('expected a FieldError, nothing was thrown');
}

describe('dropTrailingNewline', () => {
  test.each<[string, string]>([
    ['tok', 'tok'], ['tok\n', 'tok'], ['tok\r\n', 'tok'], ['tok\n\n\r\n', 'tok'],
    ['a\nb\n', 'a\nb'], ['\r\n', ''], ['tok \n', 'tok '], ['\ntok', '\ntok'],
  ])('%j → %j', (input, out) => {
    expect(dropTrailingNewline(b(input)).equals(b(out))).toBe(true);
  });
});

describe('renderNetrc', () => {
  const entries: NetrcEntry[] = [
    { machine: 'github.com', login: lit('x'), password: lit('x') },
    { machine: 'gitlab.example', login: lit('x'), password: lit('x') },
  ];

  test('byte-exact, in entry order, trailing CR/LF dropped, non-UTF-8 kept', () => {
    const out = renderNetrc(entries, lookup({ login0: b('x-access-token\n'), password0: b('ghp_abc\r\n'), login1: b('bob'), password1: RAW }));
    const want = Buffer.concat([
      b('machine github.com\n  login x-access-token\n  password ghp_abc\n'),
      b('machine gitlab.example\n  login bob\n  password '), RAW, b('\n'),
    ]);
    expect(out.equals(want)).toBe(true);
  });

  test.each<[string, 'login' | 'password', string, RegExp]>([
    ['a space', 'password', 'ab cd-PW1', /netrc entry 1 \(github\.com\) password contains whitespace/],
    ['a tab', 'login', 'us\ter-PW2', /netrc entry 1 \(github\.com\) login contains whitespace/],
    ['an inner newline', 'password', 'ab\ncd-PW3', /password contains whitespace/],
    ['an inner CR', 'password', 'ab\rcd-PW4', /password contains whitespace/],
    ['a leading space', 'password', ' PW5', /password contains whitespace/],
    ['only newlines', 'password', '\n\r\n', /password is empty/],
  ])('a value with %s is refused, naming the field and not the value', (_name, which, value, message) => {
    const table = { login0: b('l'), password0: b('p'), [`${which}0`]: b(value) };
    const err = fieldError(() => renderNetrc(entries.slice(0, 1), lookup(table)));
    expect(err.message).toMatch(message);
    for (const part of value.split(/\s+/).filter(Boolean)) expect(err.message).not.toContain(part);
  });
});

describe('renderNpmrc', () => {
  const entries: NpmrcEntry[] = [
    { registry: 'https://npm.pkg.github.com/', token: lit('x'), scope: '@acme' },
    { registry: 'http://localhost:4873/sub', token: lit('x') },
    { registry: 'https://registry.npmjs.org', token: lit('x') },
  ];

  test('byte-exact: scope line, //host/path/:_authToken=, trailing slash added', () => {
    const out = renderNpmrc(entries, lookup({ token0: b('ghp_1\n'), token1: Buffer.from('npm_ä+/=', 'utf8'), token2: b('npm_x') }));
    const want = Buffer.concat([
      b('@acme:registry=https://npm.pkg.github.com/\n//npm.pkg.github.com/:_authToken=ghp_1\n'),
      b('//localhost:4873/sub/:_authToken='), Buffer.from('npm_ä+/=', 'utf8'), b('\n'),
      b('//registry.npmjs.org/:_authToken=npm_x\n'),
    ]);
    expect(out.equals(want)).toBe(true);
  });

  test('a token with an inner space is fine (npm only trims the ends)', () => {
    expect(renderNpmrc(entries.slice(2), lookup({ token0: b('a b') })).toString()).toBe('//registry.npmjs.org/:_authToken=a b\n');
  });

  test.each<[string, string, RegExp]>([
    ['an inner newline', 'ab\nNPM1', /npmrc entry 1 \(https:\/\/npm\.pkg\.github\.com\/\) token contains a line break/],
    ['an inner CR', 'ab\rNPM2', /token contains a line break/],
    ['a leading space', ' NPM3', /token starts or ends with whitespace/],
    ['a trailing tab', 'NPM4\t', /token starts or ends with whitespace/],
    ['nothing but a newline', '\n', /token is empty/],
    ['an inner tab', 'ab\tNPM5', /token contains a control character/],
    ['a NUL', 'ab\0NPM6', /token contains a control character/],
    ['a leading byte-order mark', '\ufeffNPM7', /token starts or ends with whitespace/],
    ['the word true', 'true', /one of the words true, false, null or undefined/],
    ['the word null', 'null', /one of the words/],
    ['the word undefined', 'undefined', /one of the words/],
  ])('a token with %s is refused, naming the field and not the value', (_name, value, message) => {
    const err = fieldError(() => renderNpmrc(entries.slice(0, 1), lookup({ token0: Buffer.from(value, 'utf8') })));
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/NPM\d|ab/);
  });
});

describe('templates', () => {
  const values: Record<string, Buffer> = { user: b('alice\n'), pass: b('pa$$word'), raw: RAW, empty: b('') };
  const value = (name: string) => {
    const v = values[name];
    if (!v) throw new Error(`no test value for ${name}`);
    return v;
  };

  test.each<[string, Buffer]>([
    ['[auth]\nuser=${user}\npass=${pass}\n', b('[auth]\nuser=alice\npass=pa$$word\n')],
    ['${user}${user}', b('alicealice')],
    ['price: $$5, literal: $${user}, $HOME, $', b('price: $5, literal: ${user}, $HOME, $')],
    ['$$$${user}', b('$${user}')],
    ['$$$$${user}', b('$$alice')],
    ['x=${empty};', b('x=;')],
    ['no placeholders\n', b('no placeholders\n')],
    ['héllo ${user} ✓', Buffer.from('héllo alice ✓', 'utf8')],
  ])('%j', (text, want) => {
    expect(renderTemplate(text, value).equals(want)).toBe(true);
  });

  test('non-UTF-8 bytes in a value are written unchanged', () => {
    expect(renderTemplate('k=${raw}\n', value).equals(Buffer.concat([b('k='), RAW, b('\n')]))).toBe(true);
  });

  test('a value with a line break inside is refused, naming the placeholder and not the value', () => {
    const err = fieldError(() => renderTemplate('a\nb=${multi}\n', () => b('line-ONE\nline-TWO\n')));
    expect(err.message).toMatch(/placeholder \$\{multi\} contains a line break/);
    expect(err.message).not.toMatch(/line-ONE|line-TWO/);
  });

  test('templateNames: each name once, with the line it first appears on; $$ escapes', () => {
    const text = 'a=${one}\n\nb=${two} c=${one}\n$${not_a_name}\n$$$$${three}\nd=${}\n';
    expect([...templateNames(text)]).toEqual([['one', 1], ['two', 3], ['three', 5], ['', 6]]);
  });

  test('templateNames: none in plain text', () => {
    expect(templateNames('$HOME $ {x} \n $$ $ $${').size).toBe(0);
  });
});

describe('placeholder filters', () => {
  test.each([
    ['p@ss:w/rd%', 'p%40ss%3Aw%2Frd%25'],
    ['plain-Token_1.~', 'plain-Token_1.~'],
    ['sp ace', 'sp%20ace'],
  ])('${x|url} percent-encodes %j', (value, encoded) => {
    const out = renderTemplate('u=${x|url};raw=${x}', () => Buffer.from(value));
    expect(out.toString()).toBe(`u=${encoded};raw=${value}`);
  });

  test('non-UTF-8 bytes are encoded byte-wise', () => {
    expect(renderTemplate('${x|url}', () => Buffer.from([0xff, 0x41])).toString()).toBe('%FFA');
  });

  test('templateNames strips the filter and refuses an unknown one with its line', () => {
    expect([...templateNames('a\n${x|url}\n${y}').entries()]).toEqual([['x', 2], ['y', 3]]);
    expect(() => templateNames('a\nb ${x|base64}')).toThrow(/line 2: .*unknown filter "base64"; the filters are: url/);
  });
});

describe('renderNpmrc: registry and scope are checked again at render time (leak-paths item 6)', () => {
  test.each<[string, NpmrcEntry]>([
    ['a registry with LF', { registry: 'https://r.example/\nnode-options=--require /tmp/INJECTED.js', token: lit('x'), scope: '@acme' }],
    ['a registry with CR', { registry: 'https://r.example/\r//INJECTED/:_authToken=x', token: lit('x') }],
    ['a scope with LF', { registry: 'https://r.example/', token: lit('x'), scope: '@acme\nregistry=https://INJECTED/' }],
  ])('%s is refused before anything is written', (_name, entry) => {
    let out: Buffer | undefined;
    let error: unknown;
    try {
      out = renderNpmrc([entry], () => b('tok'));
    } catch (err) {
      error = err;
    }
    expect(out).toBeUndefined();
    expect((error as Error).message).toMatch(/contains a line break/);
    expect((error as Error).message).not.toContain('INJECTED');
  });
});

describe('.netrc fields as curl, git and Python read them (leak-paths item 7)', () => {
  const entry: NetrcEntry[] = [{ machine: 'h.example', login: lit('x'), password: lit('x') }];
  const render = (which: 'login' | 'password', v: Buffer) => renderNetrc(entry, lookup({ login0: b('l'), password0: b('p'), [`${which}0`]: v }));

  test.each(['a"b', 'a#b', ';x', 'a=b', '%41', '@at', '/sl', '+p', 'x\'y', 'välue', 'macdef', 'machine'])('%j is written as it is', (value) => {
    for (const which of ['login', 'password'] as const) {
      const v = Buffer.from(value, 'utf8');
      const want = which === 'login'
        ? Buffer.concat([b('machine h.example\n  login '), v, b('\n  password p\n')])
        : Buffer.concat([b('machine h.example\n  login l\n  password '), v, b('\n')]);
      expect(render(which, v).equals(want)).toBe(true);
    }
  });

  test.each<[string, string, RegExp]>([
    ['a leading double quote', '"PW1"', /password starts with '"', which curl 7\.84 and later read as a quoted string/],
    ['a lone leading double quote', '"PW2', /starts with '"'/],
    ['a leading #', '#PW3', /password starts with "#", which curl 7\.84 and later read as the start of a comment/],
    ['a backslash', 'PW4\\x', /password contains a backslash, which Python's netrc module/],
    ['a NUL', 'PW5\0x', /password contains a control character/],
    ['DEL', 'PW6\x7fx', /password contains a control character/],
  ])('%s is refused, naming the field and the character, not the value', (_name, value, message) => {
    const err = fieldError(() => render('password', b(value)));
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/use a value without it, or write the file with a template: secret|check the value's source/);
    expect(err.message).not.toMatch(/PW\d/);
    expect(fieldError(() => render('login', b(value))).message).toMatch(/login /);
  });
});

describe('.npmrc values as npm reads them (leak-paths item 7)', () => {
  const entry: NpmrcEntry[] = [{ registry: 'https://r.example/', token: lit('x') }];
  const line = (token: string) => renderNpmrc(entry, () => Buffer.from(token, 'utf8')).toString('utf8');

  // The encoded forms the consumer tests (consumers.test.ts) feed to the real npm.
  test.each<[string, string]>([
    ['npm_Plain-Token.1', 'npm_Plain-Token.1'],
    ['a=b', 'a=b'],
    ['a b', 'a b'],
    ['[x]', '[x]'],
    ['välue%41@/+', 'välue%41@/+'],
    ['a;b', '"a;b"'],
    ['a #b', '"a #b"'],
    ['"q"', '"\\"q\\""'],
    ["'sq'", `"'sq'"`],
    ['a\\b', '"a\\\\b"'],
    ['$x', '"$x"'],
    ['${HOME}', '"\\\\${HOME}"'],
    ['\\${HOME?}', '"\\\\\\\\\\\\${HOME?}"'],
    ['${}', '"${}"'],
    ['a\u2028b', '"a\\u2028b"'],
  ])('%j → %s', (token, encoded) => {
    expect(line(token)).toBe(`//r.example/:_authToken=${encoded}\n`);
  });

  test('bytes that are not UTF-8 are refused (npm reads .npmrc as UTF-8)', () => {
    const err = fieldError(() => renderNpmrc(entry, () => RAW));
    expect(err.message).toMatch(/token is not valid UTF-8, which npm .* cannot read back/);
  });

  test('the scope line quotes a registry URL that npm would cut at "#"', () => {
    const out = renderNpmrc([{ registry: 'https://r.example/x/#y', token: lit('x'), scope: '@acme' }], () => b('tok'));
    expect(out.toString()).toBe('@acme:registry="https://r.example/x/#y"\n//r.example/x/:_authToken=tok\n');
  });
});

describe('templates: a "${" left open is refused with its line (faults item 11)', () => {
  test.each<[string, number]>([
    ['user=${user\n', 1],
    ['a\nb\nurl=http://${user:${pass}@h/\n', 3],
    ['x=${user|url\n', 1],
    ['multi=${a\nb}\n', 1],
    ['trailing ${', 1],
    ['$$ ok\n$$${ still open', 2],
  ])('%j → line %d', (text, line) => {
    for (const fn of [() => templateNames(text), () => renderTemplate(text, () => b('v'))]) {
      const err = fieldError(fn);
      expect(err).toBeInstanceOf(TemplateError);
      expect((err as TemplateError).line).toBe(line);
      expect(err.message).toBe(`line ${line}: "\${" is not closed by "}" on the same line; close the placeholder, or write $\${ for a literal "\${"`);
    }
  });

  test('$${ is a literal "${" and needs no "}"', () => {
    expect(renderTemplate('a $${ b', () => b('v')).toString()).toBe('a ${ b');
  });
});

describe('resolveSpecs reads a template that was not read yet with the same limit (faults item 4)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'secbuild-templates-'));
    writeFileSync(join(dir, 'big.tmpl'), 'y'.repeat(2 * 1024 * 1024));
    writeFileSync(join(dir, 'open.tmpl'), 'a\nb = ${pass\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const resolveTemplate = async (path: string): Promise<UsageError> => {
    const spec: SecretSpec = { kind: 'template', id: 'conf', optional: false, mount: true, origin: showTyped('test secrets.conf'), path };
    const err = await resolveSpecs([spec], { env: {}, childEnv: scrubEnv({}, new Set()) }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  };

  test.each([
    ['a file over 1 MiB', 'big.tmpl'],
    ['/dev/zero', '/dev/zero'],
  ])('%s is refused in one sentence', async (_name, file) => {
    const path = file.startsWith('/') ? file : join(dir, file);
    expect((await resolveTemplate(path)).message).toBe(`test secrets.conf: template ${path} is larger than 1 MiB, the limit for a template; check the path.`);
  });

  test('a "${" left open is refused with the file and line', async () => {
    const path = join(dir, 'open.tmpl');
    expect((await resolveTemplate(path)).message).toBe(`${path}:2: "\${" is not closed by "}" on the same line; close the placeholder, or write $\${ for a literal "\${".`);
  });
});
