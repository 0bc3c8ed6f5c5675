/**
 * The rendered credential files, read by the real tools that consume them
 * (leak-paths item 7): curl and git (libcurl's .netrc parser), Python's netrc
 * module (pip, requests), npm (its `ini` parser and @npmcli/config) and pip
 * (a pip.conf from a `${name|url}` template). Each tool talks to a local HTTP
 * server on 127.0.0.1 that records the Authorization header; the credential it
 * sent must be the value, byte for byte. No Docker. A tool that is not installed
 * is skipped with one line (CI installs curl, git, npm and python3-pip).
 *
 * The "why refused" cases write the file by hand, the way secbuild used to,
 * and show the tool reading something else: the reason render.ts refuses them.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { npmrcString, renderNetrc, renderNpmrc, renderTemplate } from '../../src/secrets/render.js';
import type { NpmrcEntry } from '../../src/secrets/spec.js';
import { skipUnlessCI } from '../helpers/ci.js';

const TOOL_TIMEOUT = 60_000;

function has(cmd: string, args: string[] = ['--version']): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}
const tools = { curl: has('curl'), git: has('git'), npm: has('npm'), python: has('python3'), pip: has('python3', ['-m', 'pip', '--version']) };
for (const [tool, ok] of Object.entries(tools)) skipUnlessCI(!ok && `${tool} is not installed here`, `consumers: the ${tool} cases`);

/** An environment without the caller's npm/pip/git settings (npm sets npm_config_* for scripts it runs). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|PIP_|GIT_|CURL_|XDG_)/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve) => execFile(cmd, args, { env, timeout: TOOL_TIMEOUT - 5_000 }, () => resolve()));
}

let dir: string;
let server: Server;
let port: number;
/** Authorization header by the first path segment of the request (`/c3/…` → `c3`). */
const seen = new Map<string, string>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'secbuild-consumers-'));
  server = createServer((req, res) => {
    const slot = (req.url ?? '').split('/')[1] ?? '';
    const auth = req.headers.authorization;
    if (auth && !seen.has(slot)) seen.set(slot, auth);
    // git (libcurl with CURLAUTH_ANY) sends credentials only after a 401 that offers Basic.
    if (!auth) {
      res.statusCode = 401;
      res.setHeader('WWW-Authenticate', 'Basic realm="secbuild-test"');
    } else res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** The credential in a recorded `Basic …` (bytes) or `Bearer …` (text) header. */
function basic(slot: string): Buffer | undefined {
  const h = seen.get(slot);
  return h?.startsWith('Basic ') ? Buffer.from(h.slice(6), 'base64') : undefined;
}
function bearer(slot: string): string | undefined {
  const h = seen.get(slot);
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined;
}

let slots = 0;
const slot = (prefix: string) => `${prefix}${slots++}`;
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** Values .netrc renders as they are: awkward, but every reader agrees on them. */
const NETRC_OK = ['plain-Token_1', 'a"b', 'ab"', 'a#b', ';semi', 'a=b', '%41', '@at', '/sl', '+p', "x'y", 'välue', '✓€', 'macdef', 'machine', 'password'];

function netrcFile(login: Buffer, password: Buffer): Buffer {
  return renderNetrc([{ machine: '127.0.0.1', login: { kind: 'literal', text: '' }, password: { kind: 'literal', text: '' } }], (_f, which) => (which === 'login' ? login : password));
}

async function curlSends(file: Buffer): Promise<Buffer | undefined> {
  const s = slot('c');
  const path = join(dir, `${s}.netrc`);
  writeFileSync(path, file, { mode: 0o600 });
  await run('curl', ['-s', '-o', '/dev/null', '--netrc-file', path, `http://127.0.0.1:${port}/${s}/`], cleanEnv({}));
  return basic(s);
}

async function gitSends(file: Buffer): Promise<Buffer | undefined> {
  const s = slot('g');
  const home = join(dir, `${s}-home`);
  mkdirSync(home);
  writeFileSync(join(home, '.netrc'), file, { mode: 0o600 });
  const env = cleanEnv({ HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
  await run('git', ['-c', 'credential.helper=', 'ls-remote', `http://127.0.0.1:${port}/${s}/repo.git`], env);
  return basic(s);
}

/** What Python's netrc module (used by requests, so by pip) reads: `login:password`. */
function pythonReads(file: Buffer): Buffer {
  const path = join(dir, `${slot('py')}.netrc`);
  writeFileSync(path, file, { mode: 0o600 });
  const code = "import netrc,sys; a=netrc.netrc(sys.argv[1]).authenticators('127.0.0.1'); sys.stdout.buffer.write((a[0]+':'+a[2]).encode('utf-8','surrogateescape') if a else b'(none)')";
  try {
    return execFileSync('python3', ['-c', code, path], { env: cleanEnv({}), stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return utf8('(error)');
  }
}

describe('.netrc: what curl, git and Python read is the value', () => {
  test.skipIf(!tools.curl).each(NETRC_OK)('curl sends %j as the password and as the login', async (value) => {
    expect((await curlSends(netrcFile(utf8('u'), utf8(value))))?.toString('utf8')).toBe(`u:${value}`);
    expect((await curlSends(netrcFile(utf8(value), utf8('p'))))?.toString('utf8')).toBe(`${value}:p`);
  }, TOOL_TIMEOUT);

  test.skipIf(!tools.curl)('curl sends bytes that are not UTF-8 unchanged', async () => {
    const raw = Buffer.from([0x61, 0xff, 0xfe, 0x80, 0x7a]);
    expect((await curlSends(netrcFile(utf8('u'), raw)))?.equals(Buffer.concat([utf8('u:'), raw]))).toBe(true);
  }, TOOL_TIMEOUT);

  test.skipIf(!tools.git).each(NETRC_OK)('git (libcurl, ~/.netrc) sends %j', async (value) => {
    expect((await gitSends(netrcFile(utf8('u'), utf8(value))))?.toString('utf8')).toBe(`u:${value}`);
  }, TOOL_TIMEOUT);

  test.skipIf(!tools.python).each(NETRC_OK)("Python's netrc module reads %j", (value) => {
    expect(pythonReads(netrcFile(utf8('u'), utf8(value))).toString('utf8')).toBe(`u:${value}`);
  });
});

/** curl 7.84.0 added quoted strings and mid-line comments to its .netrc parser. */
const curl784 = tools.curl && (() => {
  const [major = 0, minor = 0] = (/curl (\d+)\.(\d+)/.exec(execFileSync('curl', ['--version'], { encoding: 'utf8' })) ?? []).slice(1).map(Number);
  return major > 7 || (major === 7 && minor >= 84);
})();
if (tools.curl) skipUnlessCI(!curl784 && 'this curl is older than 7.84', 'consumers: the curl 7.84+ .netrc cases');

describe('.netrc: why a leading ", a leading # and a backslash are refused', () => {
  const byHand = (password: string) => utf8(`machine 127.0.0.1\n  login u\n  password ${password}\n`);
  test.skipIf(!curl784).each<[string, string | undefined]>([
    ['"quoted"', 'u:quoted'],
    ['#hash', 'u:'],
  ])('curl reads %j written as it is as %j', async (value, read) => {
    expect((await curlSends(byHand(value)))?.toString('utf8')).toBe(read);
  }, TOOL_TIMEOUT);

  test.skipIf(!tools.python).each<[string, string]>([
    ['a\\b', 'u:ab'],
    ['"quoted"', 'u:quoted'],
  ])("Python's netrc reads %j written as it is as %j", (value, read) => {
    expect(pythonReads(byHand(value)).toString('utf8')).toBe(read);
  });
});

/** Tokens for .npmrc: plain ones are written as they are, the rest as JSON strings (render.ts). */
const NPM_TOKENS = [
  'npm_Plain-Token.1', 'a=b', 'a b', '[x]', '%41', '@/+', 'välue ✓', '"q"', '"q', "'sq'", 'a;b', 'a #b', '#x', ';x',
  'a\\b', 'a\\;b', '\\', 'a\\\\', '$x', '${SECBUILD_NPM_PROBE}', '\\${SECBUILD_NPM_PROBE}', '\\\\${SECBUILD_NPM_PROBE}',
  '${SECBUILD_NPM_PROBE?}', '$${SECBUILD_NPM_PROBE}', '${}', 'a\u2028b',
];

describe.skipIf(!tools.npm)('.npmrc: what npm sends is the token', () => {
  const sent = new Map<string, string | undefined>();
  /** Written by hand the old way (no quoting): npm reads these differently. */
  const BY_HAND: Array<[string, string]> = [['a;b', 'a'], ['a #b', 'a'], ['"q"', 'q'], ['${SECBUILD_NPM_PROBE}', 'expanded']];

  beforeAll(async () => {
    // One `npm install --dry-run` asks every scope's registry for its package at once.
    const project = join(dir, 'npm-project');
    mkdirSync(project);
    const entries: NpmrcEntry[] = NPM_TOKENS.map((_, i) => ({ registry: `http://127.0.0.1:${port}/n${i}/`, token: { kind: 'literal', text: '' }, scope: `@n${i}` }));
    let npmrc = renderNpmrc(entries, (_f, _w, i) => utf8(NPM_TOKENS[i]!)).toString('utf8');
    BY_HAND.forEach(([token], i) => (npmrc += `@h${i}:registry=http://127.0.0.1:${port}/h${i}/\n//127.0.0.1:${port}/h${i}/:_authToken=${token}\n`));
    writeFileSync(join(project, '.npmrc-test'), npmrc);
    writeFileSync(join(project, 'empty-npmrc'), '');
    const deps = Object.fromEntries([...NPM_TOKENS.map((_, i) => `@n${i}/p`), ...BY_HAND.map((_, i) => `@h${i}/p`)].map((d) => [d, '1.0.0']));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'probe', version: '1.0.0', dependencies: deps }));
    const env = cleanEnv({ HOME: project, npm_config_cache: join(project, 'cache'), SECBUILD_NPM_PROBE: 'expanded' });
    await new Promise<void>((resolve) => execFile('npm', [
      'install', '--dry-run', '--userconfig', '.npmrc-test', '--globalconfig', 'empty-npmrc', '--fetch-retries', '0',
      '--no-update-notifier', '--no-audit', '--no-fund', '--ignore-scripts',
    ], { cwd: project, env, timeout: TOOL_TIMEOUT - 5_000 }, () => resolve()));
    NPM_TOKENS.forEach((_, i) => sent.set(NPM_TOKENS[i]!, bearer(`n${i}`)));
    BY_HAND.forEach(([token], i) => sent.set(`by hand: ${token}`, bearer(`h${i}`)));
  }, TOOL_TIMEOUT);

  // Node's HTTP client refuses a header character above U+00FF, so npm can
  // send no token holding one; `npm config get` shows it reads them back too.
  const latin1 = (t: string) => /^[\x00-\xff]*$/.test(t);
  test.each(NPM_TOKENS.filter(latin1))('npm sends %j', (token) => {
    expect(sent.get(token)).toBe(token);
  });

  test('npm config get reads every token back unchanged (same parser, keys npm does not protect)', async () => {
    const file = join(dir, 'npm-get.npmrc');
    writeFileSync(file, NPM_TOKENS.map((t, i) => `secbuild-probe-${i}=${npmrcString('probe', t)}\n`).join(''));
    const out = await new Promise<string>((resolve) => execFile('npm', ['config', 'get', ...NPM_TOKENS.map((_, i) => `secbuild-probe-${i}`), '--userconfig', file, '--globalconfig', '/dev/null'], {
      env: cleanEnv({ HOME: dir, SECBUILD_NPM_PROBE: 'expanded' }), timeout: TOOL_TIMEOUT - 5_000,
    }, (_err, stdout) => resolve(stdout)));
    const got = new Map(out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    NPM_TOKENS.forEach((t, i) => expect(got.get(`secbuild-probe-${i}`), `token ${JSON.stringify(t)}`).toBe(t));
  }, TOOL_TIMEOUT);

  test.each(BY_HAND)('written as it is, npm would send %j as %j', (token, read) => {
    expect(sent.get(`by hand: ${token}`)).toBe(read);
  });
});

/** pip's index URL from a template: `${name|url}` percent-encodes, pip decodes. */
const PIP_VALUES = ['plain', '"q', '#x', ';x', 'a=b', '%41', '@/+', 'a:b', 'a b', '$x', '${x}', 'välue', '\\'];

describe.skipIf(!tools.pip)('pip.conf from a template: what pip sends is the value', () => {
  const sent = new Map<string, Buffer | undefined>();

  beforeAll(async () => {
    const home = join(dir, 'pip-home');
    mkdirSync(home);
    const url = (i: number) => `http://us%40er:\${p${i}|url}@127.0.0.1:${port}/p${i}/simple/`;
    const template = `[global]\nindex-url = ${url(0)}\nextra-index-url =\n${PIP_VALUES.slice(1).map((_, i) => `    ${url(i + 1)}`).join('\n')}\n`;
    const conf = renderTemplate(template, (name) => utf8(PIP_VALUES[Number(name.slice(1))]!));
    writeFileSync(join(home, 'pip.conf'), conf);
    const env = cleanEnv({ HOME: home, XDG_CONFIG_HOME: join(home, '.config'), PIP_CONFIG_FILE: join(home, 'pip.conf') });
    await run('python3', [
      '-m', 'pip', 'download', '--no-input', '--no-deps', '--no-cache-dir', '--disable-pip-version-check',
      '--retries', '0', '--timeout', '10', '-d', join(home, 'dl'), 'secbuild-probe',
    ], env);
    PIP_VALUES.forEach((_, i) => sent.set(PIP_VALUES[i]!, basic(`p${i}`)));
  }, TOOL_TIMEOUT);

  // requests encodes Basic credentials as Latin-1 (so "ä" is one byte on the wire).
  test.each(PIP_VALUES)('pip sends %j', (value) => {
    expect(sent.get(value)?.toString('latin1')).toBe(`us@er:${value}`);
  });
});
