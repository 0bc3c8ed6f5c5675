import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, test } from 'vitest';
import { deriveDockerfile, mapDockerLine } from '../../src/dockerfile/derive.js';
import { cacheInput, fileKey } from '../../src/secrets/cache-key.js';
import { cacheArgName, configCachePolicy, formatPolicy, parseCachePolicy } from '../../src/secrets/cache-policy.js';
import { parseConfig } from '../../src/secrets/config.js';
import { patternsFor } from '../../src/secrets/forms.js';
import { Secret } from '../../src/secrets/secret.js';
import { groupEntries, parseNetrcFlag, parseNpmrcFlag, parseSecretFlag } from '../../src/secrets/spec.js';
import { UsageError } from '../../src/util/errors.js';

describe('cache policy syntax', () => {
  test.each<[string, string]>([
    ['stable', 'stable'],
    ['content', 'content'],
    ['scope:prod', 'scope:prod'],
    ['content+scope:prod', 'content+scope:prod'],
    ['scope:prod+content', 'content+scope:prod'],
  ])('%s', (text, shown) => {
    expect(formatPolicy(parseCachePolicy(text))).toBe(shown);
  });

  test.each(['', 'contents', 'content+content', 'stable+content', 'scope:', 'scope:a b', 'scope:-x', `scope:${'a'.repeat(65)}`, 'scope:a+scope:b'])('refused: "%s"', (text) => {
    expect(() => parseCachePolicy(text)).toThrow(/cache|scope/);
  });

  test('config: a string, a mapping, ${VAR} in the scope', () => {
    expect(configCachePolicy('content', {})).toEqual({ content: true });
    expect(configCachePolicy({ content: true, scope: '${DEPLOY_ENV}' }, { DEPLOY_ENV: 'prod' })).toEqual({ content: true, scope: 'prod' });
    expect(configCachePolicy({ scope: 'eu-${DEPLOY_ENV}' }, { DEPLOY_ENV: 'staging' })).toEqual({ content: false, scope: 'eu-staging' });
    expect(configCachePolicy({ content: false }, {})).toBeUndefined();
    expect(configCachePolicy({ scope: '${NOPE}' }, {})).toEqual({ expected: expect.stringMatching(/\$\{NOPE\} in the cache scope is not set/) });
    expect(configCachePolicy({ contents: true }, {})).toEqual({ expected: expect.stringMatching(/unknown key "contents"/) });
    expect(configCachePolicy(3, {})).toEqual({ expected: expect.stringMatching(/stable, content/) });
  });

  test('the build-arg name is stable per id and never shared by two ids', () => {
    expect(cacheArgName('tok')).toBe('SECBUILD_CACHE_IDtok');
    const ids = ['a.b', 'a_b', 'a-b', 'a_2e', 'a_5f2e', 'ab'];
    expect(new Set(ids.map(cacheArgName)).size).toBe(ids.length);
    for (const id of ids) expect(cacheArgName(id)).toMatch(/^[A-Za-z0-9_]+$/);
  });

  test.each(['token', 'key', 'api_key', 'gh.token', 'secret', 'password', 'auth-token'])('"%s": no part of the name is a word BuildKit takes for a secret', (id) => {
    // moby/buildkit frontend/dockerfile/linter: SecretsUsedInArgOrEnv matches these words between underscores.
    const words = /(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
    expect(cacheArgName(id)).not.toMatch(words);
  });
});

describe('cache= on --secret, --netrc, --npmrc and in secbuild.yml', () => {
  test('--secret forms carry it; stable is no policy', () => {
    expect(parseSecretFlag('id=t,from=env:T,cache=content', {}, '/c').cache).toEqual({ content: true });
    expect(parseSecretFlag('id=t,src=./t,cache=content+scope:prod', {}, '/c').cache).toEqual({ content: true, scope: 'prod' });
    expect(parseSecretFlag('id=t,env=T,cache=stable', {}, '/c').cache).toBeUndefined();
    expect(() => parseSecretFlag('id=t,from=env:T,cache=always', {}, '/c')).toThrow(/--secret: id=t: cache=always is not a cache policy/);
  });

  test('a rendered file has one policy, given on any entry', () => {
    const a = parseNetrcFlag('machine=a,login=x,password=env:P,cache=content', '/c');
    const b = parseNetrcFlag('machine=b,login=x,password=env:P', '/c');
    expect(groupEntries('netrc', [a, b])[0]!.cache).toEqual({ content: true });
    const c = parseNetrcFlag('machine=c,login=x,password=env:P,cache=scope:prod', '/c');
    expect(() => groupEntries('netrc', [a, c])).toThrow(/different cache= policies/);
    expect(groupEntries('npmrc', [parseNpmrcFlag('registry=https://r/,token=env:T,cache=scope:x', '/c')])[0]!.cache).toEqual({ content: false, scope: 'x' });
  });

  test('secbuild.yml: secrets, templates, netrc and npmrc entries', () => {
    const { specs } = parseConfig(
      [
        'secrets:',
        '  a: { from: env:A, cache: content }',
        '  b: { from: env:B, cache: { content: true, scope: "${ENV_NAME}" } }',
        '  t: { template: ./t.tmpl, cache: scope:prod }',
        'netrc: [{ machine: h, login: l, password: env:P, cache: content }]',
        'npmrc: [{ registry: "https://r/", token: env:T }]',
      ].join('\n'),
      '/r/secbuild.yml',
      (t) => parse(t),
      { ENV_NAME: 'staging' },
    );
    const by = Object.fromEntries(specs.map((s) => [s.id, s.cache]));
    expect(by).toEqual({ a: { content: true }, b: { content: true, scope: 'staging' }, t: { content: false, scope: 'prod' }, netrc: { content: true }, npmrc: undefined });
    expect(() => parseConfig('secrets:\n  a: { from: env:A, cache: sometimes }\n', '/r/s.yml', (t) => parse(t), {})).toThrow(/\/r\/s.yml: secrets.a.cache: expected/);
  });
});

describe('the derived Dockerfile', () => {
  const user = ['# syntax=docker/dockerfile:1', 'FROM b AS x', 'RUN echo one', 'RUN --mount=type=secret,id=tok \\', '  cat /run/secrets/tok', 'FROM b', 'RUN --mount=type=secret,id=other true', ''].join('\r\n');
  const mounts = [{ id: 'tok', run: 4 }, { id: 'other', run: 7 }];
  const derived = deriveDockerfile(user, mounts, (id) => (id === 'tok' ? 'SECBUILD_CACHE_IDtok' : undefined))!;

  test('an ARG before each RUN that mounts a keyed secret, nothing else changed', () => {
    const lines = derived.text.split('\n');
    expect(lines[3]).toBe('ARG SECBUILD_CACHE_IDtok');
    expect(derived.text.replace('ARG SECBUILD_CACHE_IDtok\n', '')).toBe(user);
    expect(derived.lineMap).toEqual([1, 2, 3, 4, 4, 5, 6, 7, 8]);
    expect([...derived.added]).toEqual([4]);
  });

  test('no keyed mount: no derived file', () => {
    expect(deriveDockerfile(user, mounts, () => undefined)).toBeUndefined();
  });

  test.each<[string, string | null]>([
    ['failed to create LLB definition: dockerfile parse error line 8: unknown instruction: RUNX', 'failed to create LLB definition: dockerfile parse error line 7 (/src/Dockerfile:7): unknown instruction: RUNX'],
    ['Dockerfile:6', '/src/Dockerfile:5'],
    [' > [x 2/2] RUN --mount=type=secret,id=tok (Dockerfile:5)', ' > [x 2/2] RUN --mount=type=secret,id=tok (/src/Dockerfile:4)'],
    ['#9 0.312 Dockerfile:6 is a word of the RUN output', '#9 0.312 Dockerfile:6 is a word of the RUN output'],
    ['MyDockerfile:6', 'MyDockerfile:6'],
  ])('docker line: %s', (line, want) => {
    expect(mapDockerLine(line, derived, 'Dockerfile', '/src/Dockerfile', { excerpt: false })).toBe(want);
  });

  test('the source excerpt of later BuildKit: rows renumbered, the added ARG dropped', () => {
    const state = { excerpt: false };
    const rows = ['--------------------', '   3 |     RUN echo one', '   4 | >>> ARG SECBUILD_CACHE_IDtok', '   5 | >>> RUN --mount=type=secret,id=tok \\', '--------------------', '   5 | not an excerpt'];
    const out = rows.map((r) => mapDockerLine(r, derived, 'Dockerfile', '/src/Dockerfile', state));
    expect(out).toEqual(['--------------------', '   3 |     RUN echo one', null, '   4 | >>> RUN --mount=type=secret,id=tok \\', '--------------------', '   5 | not an excerpt']);
  });
});

describe('the cache input', () => {
  const key = Buffer.alloc(32, 7);
  const value = Buffer.from('hunter2-password');

  test('content: a keyed MAC of id, scope and value; scope alone: the name, no key', () => {
    const mac = cacheInput({ content: true }, 'tok', value, key);
    expect(mac).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheInput({ content: true }, 'tok', value, Buffer.alloc(32, 8))).not.toBe(mac);
    expect(cacheInput({ content: true }, 'tok2', value, key)).not.toBe(mac);
    expect(cacheInput({ content: true, scope: 'prod' }, 'tok', value, key)).not.toBe(mac);
    expect(cacheInput({ content: true }, 'tok', Buffer.from('hunter3-password'), key)).not.toBe(mac);
    expect(cacheInput({ content: false, scope: 'prod' }, 'tok', value, undefined)).toBe('scope:prod');
  });

  test('the MAC is no encoded form of the value that masking and verify search for', () => {
    const mac = cacheInput({ content: true }, 'tok', value, key);
    const patterns = patternsFor([new Secret('tok', 'env:T', value)]);
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) expect(Buffer.from(mac).includes(p.bytes)).toBe(false);
  });
});

describe('the key file', () => {
  const root = mkdtempSync(join(tmpdir(), 'secbuild-unit-cachekey-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('created on first use: 256 bits, 0600 in a 0700 directory, the same key afterwards', () => {
    const env = { XDG_CONFIG_HOME: join(root, 'a') };
    const key = fileKey(env);
    expect(key.length).toBe(32);
    const path = join(root, 'a', 'secbuild', 'cache-key');
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(root, 'a', 'secbuild')).mode & 0o777).toBe(0o700);
    expect(readFileSync(path, 'utf8').trim()).toBe(key.toString('hex'));
    expect(fileKey(env).equals(key)).toBe(true);
  });

  test('a symlink, a file others can read or a file that is no key is refused', () => {
    const dir = join(root, 'b', 'secbuild');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(root, 'target'), 'a'.repeat(64));
    symlinkSync(join(root, 'target'), join(dir, 'cache-key'));
    expect(() => fileKey({ XDG_CONFIG_HOME: join(root, 'b') })).toThrow(UsageError);
    const dir2 = join(root, 'c', 'secbuild');
    mkdirSync(dir2, { recursive: true });
    writeFileSync(join(dir2, 'cache-key'), 'a'.repeat(64));
    chmodSync(join(dir2, 'cache-key'), 0o644);
    expect(() => fileKey({ XDG_CONFIG_HOME: join(root, 'c') })).toThrow(/mode 0600 .*chmod 600/);
    chmodSync(join(dir2, 'cache-key'), 0o600);
    writeFileSync(join(dir2, 'cache-key'), 'short');
    expect(() => fileKey({ XDG_CONFIG_HOME: join(root, 'c') })).toThrow(/does not hold a cache key/);
  });
});
