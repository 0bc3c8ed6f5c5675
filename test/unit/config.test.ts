import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig, parseConfig } from '../../src/secrets/config.js';
import { UsageError } from '../../src/util/errors.js';

const PATH = '/repo/ci/secbuild.yml';
const load = (text: string) => parseConfig(text, PATH, (t) => parse(t));

function configError(text: string): UsageError {
  try {
    load(text);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('parseConfig: happy path', () => {
  test('the header example', () => {
    const { path, specs } = load(`
version: 1
secrets:
  gh_token: { from: env:GITHUB_TOKEN }
  npm_token: { from: "keychain:npm/ci", optional: true }
  pip_conf: { template: ./pip.conf.tmpl, env: PIP_CONFIG_FILE }
  api_key: { from: "cmd:op read op://ci/api/key", mount: true, description: the API key }
  plain: "file:tokens/plain"
netrc:
  - { machine: github.com, login: x-access-token, password: gh_token }
npmrc:
  - { registry: "https://npm.pkg.github.com/", token: npm_token, scope: "@acme" }
`);
    expect(path).toBe(PATH);
    const base = '/repo/ci';
    expect(specs).toEqual([
      { kind: 'ref', id: 'gh_token', optional: false, mount: false, origin: `${PATH} secrets.gh_token`, ref: { scheme: 'env', key: 'GITHUB_TOKEN', baseDir: base } },
      { kind: 'ref', id: 'npm_token', optional: true, mount: false, origin: `${PATH} secrets.npm_token`, ref: { scheme: 'keychain', key: 'npm/ci', baseDir: base } },
      { kind: 'template', id: 'pip_conf', optional: false, mount: true, origin: `${PATH} secrets.pip_conf`, path: '/repo/ci/pip.conf.tmpl', env: 'PIP_CONFIG_FILE' },
      { kind: 'ref', id: 'api_key', optional: false, mount: true, origin: `${PATH} secrets.api_key`, ref: { scheme: 'cmd', key: 'op read op://ci/api/key', baseDir: base } },
      { kind: 'ref', id: 'plain', optional: false, mount: true, origin: `${PATH} secrets.plain`, ref: { scheme: 'file', key: 'tokens/plain', baseDir: base } },
      {
        kind: 'netrc', id: 'netrc', optional: false, mount: true, origin: `${PATH} netrc`,
        entries: [{ machine: 'github.com', login: { kind: 'literal', text: 'x-access-token' }, password: { kind: 'secret', name: 'gh_token', at: `${PATH} netrc[0].password` } }],
      },
      {
        kind: 'npmrc', id: 'npmrc', optional: false, mount: true, origin: `${PATH} npmrc`,
        entries: [{ registry: 'https://npm.pkg.github.com/', token: { kind: 'secret', name: 'npm_token', at: `${PATH} npmrc[0].token` }, scope: '@acme' }],
      },
    ]);
  });

  test.each(['', '# only a comment\n', '~\n'])('an empty document gives no specs: %j', (text) => {
    expect(load(text).specs).toEqual([]);
  });

  test('fields may be references; entries with the same id share one file', () => {
    const { specs } = load(`
netrc:
  - { machine: a.example, login: env:LOGIN, password: env:PASS }
  - { machine: b.example, login: bob, password: "file:~/.b" }
  - { machine: c.example, login: carol, password: "cmd:pass show c", id: netrc-c }
`);
    expect(specs.map((s) => [s.kind, s.id, s.kind === 'netrc' ? s.entries.map((e) => e.machine) : []])).toEqual([
      ['netrc', 'netrc', ['a.example', 'b.example']],
      ['netrc', 'netrc-c', ['c.example']],
    ]);
    const first = specs[0]!;
    expect(first.kind === 'netrc' && first.entries[0]).toEqual({
      machine: 'a.example',
      login: { kind: 'ref', ref: { scheme: 'env', key: 'LOGIN', baseDir: '/repo/ci' } },
      password: { kind: 'ref', ref: { scheme: 'env', key: 'PASS', baseDir: '/repo/ci' } },
    });
  });
});

describe('parseConfig: mount of template inputs', () => {
  test.each<[string, string, boolean]>([
    ['used only by netrc', '{ from: env:T }', false],
    ['used only by npmrc', '{ from: env:T }', false],
    ['used by netrc, mount: true', '{ from: env:T, mount: true }', true],
    ['used by npmrc, mount: true', '{ from: env:T, mount: true }', true],
    ['used by netrc, string form', 'env:T', false],
  ])('a secret %s → mount %s', (name, def, mount) => {
    const file = name.includes('npmrc')
      ? `npmrc: [{ registry: "https://r.example/", token: tok }]`
      : `netrc: [{ machine: h, login: l, password: tok }]`;
    const { specs } = load(`secrets:\n  tok: ${def}\n  other: { from: env:O }\n${file}\n`);
    expect(specs.find((s) => s.id === 'tok')!.mount).toBe(mount);
    expect(specs.find((s) => s.id === 'other')!.mount).toBe(true);
  });

  test('mount: false is kept for a secret no file uses', () => {
    expect(load('secrets:\n  x: { from: env:X, mount: false }\n').specs[0]!.mount).toBe(false);
  });
});

describe('parseConfig: errors name the file, the key path and what was expected', () => {
  test.each<[string, string, string, RegExp]>([
    ['not YAML', 'secrets: [', '', /not valid YAML/],
    ['top level a list', '- a\n- b\n', '(top level)', /a mapping with secrets:/],
    ['top level a scalar', 'hello\n', '(top level)', /a mapping/],
    ['unknown top-level key', 'secret:\n  a: env:A\n', 'secret', /one of secrets, netrc, npmrc, ssh, version \(unknown key\)/],
    ['secrets a list', 'secrets:\n  - a\n', 'secrets', /a mapping of secret names/],
    ['bad secret name', 'secrets:\n  "-x": env:A\n', 'secrets.-x', /a name of letters, digits/],
    ['secret null', 'secrets:\n  a:\n', 'secrets.a', /a reference string or \{ from: REF \}/],
    ['secret a number', 'secrets:\n  a: 3\n', 'secrets.a', /a reference string/],
    ['unknown secret key', 'secrets:\n  a: { form: env:A }\n', 'secrets.a.form', /one of from, template, optional, mount, description, cache, env, role-id, secret-id, identity \(unknown key\)/],
    ['env on a from: secret', 'secrets:\n  a: { from: env:A, env: A_FILE }\n', 'secrets.a.env', /no env: here, as env: names the variable secbuild exec points at a template: file .*--env NAME=REF/],
    ['env not a variable name', 'secrets:\n  a: { template: t, env: "1X" }\n', 'secrets.a.env', /a variable name of letters, digits and "_"/],
    ['env a number', 'secrets:\n  a: { template: t, env: 3 }\n', 'secrets.a.env', /a variable name/],
    ['optional not boolean', 'secrets:\n  a: { from: env:A, optional: "yes" }\n', 'secrets.a.optional', /true or false/],
    ['mount not boolean', 'secrets:\n  a: { from: env:A, mount: 1 }\n', 'secrets.a.mount', /true or false/],
    ['from and template', 'secrets:\n  a: { from: env:A, template: t }\n', 'secrets.a', /either from: or template:, not both/],
    ['neither from nor template', 'secrets:\n  a: { optional: true }\n', 'secrets.a', /from: SCHEME:KEY .* or template: FILE/],
    ['unknown scheme', 'secrets:\n  a: { from: "gcp-sm:x/y" }\n', 'secrets.a.from', /from is not a secret reference \("gcp-sm:" is not a known scheme\); write SCHEME:KEY with one of env:, file:, keychain:, cmd:/],
    ['bad env name', 'secrets:\n  a: env:1A\n', 'secrets.a.from', /not a valid environment variable name/],
    ['netrc not a list', 'netrc: { machine: h }\n', 'netrc', /a list of entries/],
    ['netrc entry a string', 'netrc: [h]\n', 'netrc[0]', /a mapping/],
    ['netrc unknown key', 'netrc: [{ machine: h, login: l, password: env:P, port: 1 }]\n', 'netrc[0].port', /one of machine, login, password, id/],
    ['netrc no machine', 'netrc: [{ login: l, password: env:P }]\n', 'netrc[0].machine', /a host name/],
    ['netrc machine with space', 'netrc: [{ machine: "a b", login: l, password: env:P }]\n', 'netrc[0].machine', /a host name/],
    ['netrc machine with a line break', 'netrc: [{ machine: "h\\n  login x", login: l, password: env:P }]\n', 'netrc[0].machine', /a host name/],
    ['netrc machine with a quote', 'netrc: [{ machine: \'"h"\', login: l, password: env:P }]\n', 'netrc[0].machine', /a host name \(no spaces/],
    ['netrc no login', 'netrc: [{ machine: h, password: env:P }]\n', 'netrc[0].login', /a string/],
    ['netrc login a number', 'netrc: [{ machine: h, login: 7, password: env:P }]\n', 'netrc[0].login', /a string/],
    ['netrc password undeclared', 'netrc: [{ machine: h, login: l, password: gh }]\n', 'netrc[0].password', /the value names none, and is not shown/],
    ['netrc password a template', 'secrets:\n  t: { template: x }\nnetrc: [{ machine: h, login: l, password: t }]\n', 'netrc[0].password', /declared with from: \(secret "t" is a template\)/],
    ['netrc bad ref', 'netrc: [{ machine: h, login: l, password: "keychain:x" }]\n', 'netrc[0].password', /is not SERVICE\/ACCOUNT/],
    ['netrc id a number', 'netrc: [{ machine: h, login: l, password: env:P, id: 3 }]\n', 'netrc[0].id', /a string/],
    ['netrc id invalid', 'netrc: [{ machine: h, login: l, password: env:P, id: "a b" }]\n', 'netrc[0].id', /a secret id of letters/],
    ['netrc id taken by secrets', 'secrets:\n  netrc: env:N\nnetrc: [{ machine: h, login: l, password: env:P }]\n', 'netrc[0].id', /secrets.netrc is declared/],
    ['npmrc id taken by netrc', 'netrc: [{ machine: h, login: l, password: env:P, id: creds }]\nnpmrc: [{ registry: "https://r/", token: env:T, id: creds }]\n', 'npmrc[0].id', /not used by the netrc entries/],
    ['npmrc no registry', 'npmrc: [{ token: env:T }]\n', 'npmrc[0].registry', /a registry URL/],
    ['npmrc registry not a URL', 'npmrc: [{ registry: npm.example.com, token: env:T }]\n', 'npmrc[0].registry', /is not a URL/],
    ['npmrc bad scope', 'npmrc: [{ registry: "https://r/", token: env:T, scope: acme }]\n', 'npmrc[0].scope', /must look like @my-org/],
    ['npmrc no token', 'npmrc: [{ registry: "https://r/" }]\n', 'npmrc[0].token', /the name of a secret under secrets: or a reference/],
    ['npmrc unknown key', 'npmrc: [{ registry: "https://r/", token: env:T, email: x }]\n', 'npmrc[0].email', /one of registry, token, scope, id/],
  ])('%s', (_name, text, keyPath, expected) => {
    const err = configError(text);
    expect(err.message.startsWith(`${PATH}`)).toBe(true);
    expect(err.message).toContain(keyPath);
    expect(err.message).toMatch(expected);
  });

  test('a registry URL with credentials is refused without echoing them', () => {
    const err = configError('npmrc: [{ registry: "https://ci:S3CR3T@r.example/", token: env:T }]\n');
    expect(err.message).toContain('npmrc[0].registry');
    expect(err.message).not.toContain('S3CR3T');
  });
});

describe('parseConfig: a line break cannot inject .npmrc lines (leak-paths item 6)', () => {
  test.each<[string, string, string]>([
    ['LF in the registry', 'npmrc: [{ registry: "https://r.example/\\nnode-options=--require /tmp/INJECTED.js", token: env:T, scope: "@acme" }]\n', 'npmrc[0].registry'],
    ['CR in the registry', 'npmrc: [{ registry: "https://r.example/\\r//INJECTED/:_authToken=x", token: env:T }]\n', 'npmrc[0].registry'],
    ['LF in the scope', 'npmrc: [{ registry: "https://r.example/", token: env:T, scope: "@acme\\nregistry=https://INJECTED/" }]\n', 'npmrc[0].scope'],
  ])('%s is refused, naming the key path and echoing nothing', (_name, text, keyPath) => {
    const err = configError(text);
    expect(err.message).toContain(`${PATH} ${keyPath}`);
    expect(err.message).toMatch(/contains a line break/);
    expect(err.message).not.toContain('INJECTED');
    expect(err.message).not.toMatch(/[\r\n]/);
  });

  test('a scope that is not a string is refused', () => {
    expect(configError('npmrc: [{ registry: "https://r/", token: env:T, scope: 7 }]\n').message).toMatch(/npmrc\[0\]\.scope.*must look like @my-org/);
  });
});

describe('parseConfig: quotes inside a cmd: command group (leak-paths item 12)', () => {
  test.each<[string, string]>([
    [`'cmd:sh -c "printf a,b"'`, 'sh -c "printf a,b"'],
    [`"cmd:sh -c 'printf x'"`, "sh -c 'printf x'"],
    [`'cmd:printf "%s" "a b"'`, 'printf "%s" "a b"'],
  ])('from: %s keeps the command as written', (yamlValue, key) => {
    const { specs } = load(`secrets:\n  x: { from: ${yamlValue} }\n`);
    expect(specs[0]).toMatchObject({ kind: 'ref', ref: { scheme: 'cmd', key } });
  });
});

describe('loadConfig: config and template files are read with a stated limit (faults item 4)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'secbuild-config-'));
    writeFileSync(join(dir, 'big.yml'), `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    writeFileSync(join(dir, 'big.tmpl'), 'y'.repeat(2 * 1024 * 1024));
    writeFileSync(join(dir, 'open.tmpl'), '[global]\nindex-url = http://u:${pass|url}@h/\nextra = ${user\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function loadError(explicit: string, files: Record<string, string> = {}): Promise<UsageError> {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const err = await loadConfig(explicit, dir).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    return err as UsageError;
  }

  test('a config file over 1 MiB is refused in one sentence', async () => {
    const err = await loadError('big.yml');
    expect(err.message).toBe(`--config big.yml: ${join(dir, 'big.yml')} is larger than 1 MiB, the limit for a config file; check the path.`);
  });

  test('a template over 1 MiB is refused, naming the key path', async () => {
    const err = await loadError('t.yml', { 't.yml': 'secrets:\n  p: { from: env:P }\n  conf: { template: big.tmpl }\n' });
    expect(err.message).toBe(`${join(dir, 't.yml')}: secrets.conf.template: ${join(dir, 'big.tmpl')} is larger than 1 MiB, the limit for a template; check the path.`);
  });

  test('--config /dev/zero and template: /dev/zero stop at the limit', async () => {
    expect((await loadError('/dev/zero')).message).toBe('--config /dev/zero: /dev/zero is larger than 1 MiB, the limit for a config file; check the path.');
    const err = await loadError('z.yml', { 'z.yml': 'secrets:\n  conf: { template: /dev/zero }\n' });
    expect(err.message).toBe(`${join(dir, 'z.yml')}: secrets.conf.template: /dev/zero is larger than 1 MiB, the limit for a template; check the path.`);
  });

  test('a config file and a template of exactly 1 MiB are read', async () => {
    writeFileSync(join(dir, 'edge.tmpl'), 'z'.repeat(1024 * 1024));
    const head = 'secrets:\n  conf: { template: edge.tmpl }\n#';
    writeFileSync(join(dir, 'edge.yml'), head + 'x'.repeat(1024 * 1024 - head.length));
    const config = await loadConfig('edge.yml', dir);
    expect(config!.specs[0]).toMatchObject({ kind: 'template', text: 'z'.repeat(1024 * 1024) });
  });

  test('a "${" left open in a template is refused with the file and line (faults item 11)', async () => {
    const err = await loadError('o.yml', { 'o.yml': 'secrets:\n  pass: { from: env:P }\n  conf: { template: open.tmpl }\n' });
    expect(err.message).toBe(`${join(dir, 'open.tmpl')}:3: "\${" is not closed by "}" on the same line; close the placeholder, or write $\${ for a literal "\${".`);
  });
});
