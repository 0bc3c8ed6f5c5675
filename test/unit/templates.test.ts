import { describe, expect, test } from 'vitest';
import type { NetrcEntry, NpmrcEntry } from '../../src/secrets/spec.js';
import { trimNewlines as dropTrailingNewline } from '../../src/secrets/forms.js';
import { FieldError, renderNetrc, renderNpmrc, renderTemplate, templateNames, type FieldLookup } from '../../src/secrets/render.js';

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
    const out = renderNpmrc(entries, lookup({ token0: b('ghp_1\n'), token1: RAW, token2: b('npm_x') }));
    const want = Buffer.concat([
      b('@acme:registry=https://npm.pkg.github.com/\n//npm.pkg.github.com/:_authToken=ghp_1\n'),
      b('//localhost:4873/sub/:_authToken='), RAW, b('\n'),
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
  ])('a token with %s is refused, naming the field and not the value', (_name, value, message) => {
    const err = fieldError(() => renderNpmrc(entries.slice(0, 1), lookup({ token0: b(value) })));
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
    expect(templateNames('$HOME ${ \n $$ $').size).toBe(0);
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
