/**
 * Cache policies on the command line (argv and files only; what BuildKit does
 * with them is test/e2e/cache-policy.test.ts): the derived Dockerfile replaces
 * the user's -f, one --build-arg per policy carries a MAC, the key never
 * reaches docker's argv or environment, --dry-run reads no key, and the
 * report, --dry-run and `secbuild secrets` show the policy.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { BASE, listDir, nonce, runCli, sandbox, tree } from '../helpers/cli.js';
import { fakeDocker, fakeDockerSuite } from '../helpers/fake-docker.js';

describe('cache= (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN echo before\nRUN --mount=type=secret,id=tok true\n');
  const key = 'k'.repeat(40);

  test('a content secret: the derived Dockerfile replaces -f, a MAC build-arg, no key in argv or env, the policy in the report', async () => {
    const { env, runs, read } = fake.record({ TOK: `tok-${nonce()}`, SECBUILD_CACHE_KEY: key });
    const report = join(box.dir, `report-${nonce()}.json`);
    const r = await runCli(['-f', join(ctx.dir, 'Dockerfile'), '--secret', 'id=tok,from=env:TOK,cache=content', '--report', report, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(runs().length).toBe(1);
    const argv = read('argv').trimEnd().split('\n');
    const f = argv.indexOf('-f');
    expect(argv[f + 1]).toMatch(/\/secbuild-[^/]+\/dockerfile\/Dockerfile$/);
    expect(argv.filter((a) => a === '-f')).toHaveLength(1);
    expect(argv).toContain(ctx.dir);
    expect(argv[argv.indexOf('--build-arg') + 1]).toMatch(/^SECBUILD_CACHE_IDtok=[0-9a-f]{64}$/);
    expect(read('argv') + read('env')).not.toContain(key);
    expect(read('env')).not.toMatch(/^SECBUILD_CACHE_KEY=/m);
    expect(JSON.parse(readFileSync(report, 'utf8')).secrets).toEqual([expect.objectContaining({ id: 'tok', cache: 'content' })]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('stable secrets only: the build is the ordinary one (no derived file, no build-arg)', async () => {
    const { env, read } = fake.record({ TOK: `tok-${nonce()}` });
    const r = await runCli(['--secret', 'id=tok,from=env:TOK,cache=stable', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(read('argv')).not.toMatch(/^-f$|SECBUILD_CACHE/m);
  });

  test('a policy on a secret no RUN mounts: a warning, and the ordinary build', async () => {
    const { env, read } = fake.record({ TOK: `tok-${nonce()}`, SECBUILD_CACHE_KEY: key });
    const r = await runCli(['--secret', 'id=tok,from=env:TOK', '--secret', 'id=other,from=env:TOK,cache=content', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: secret "other" has cache=content, but no RUN of the build mounts it; the policy changes nothing\./);
    expect(read('argv')).not.toMatch(/^-f$|SECBUILD_CACHE/m);
  });

  test('--dry-run shows the policy and the words, and reads or creates no key', async () => {
    const config = join(box.dir, `config-${nonce()}`);
    const { env, runs } = fake.record({ TOK: `tok-${nonce()}`, XDG_CONFIG_HOME: config, SECBUILD_KEYCHAIN_BACKEND: 'none-for-this-test' });
    const r = await runCli(['--dry-run', '--secret', 'id=tok,from=env:TOK,cache=content+scope:prod', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/-f \/\S+\/dockerfile\/Dockerfile --build-arg 'SECBUILD_CACHE_IDtok=<HMAC-SHA-256 of tok \(cache=content\+scope:prod\)>'/);
    expect(r.stderr).toMatch(/secret "tok" from env:TOK: \d+ bytes, cache=content\+scope:prod/);
    expect(runs()).toEqual([]);
    expect(() => readFileSync(join(config, 'secbuild', 'cache-key'))).toThrow();
  });

  test('secbuild secrets shows the CACHE column', async () => {
    const { env } = fake.record({ TOK: 'abcdef', OTHER: 'ghijkl' });
    const r = await runCli(['secrets', '--secret', 'id=tok,from=env:TOK,cache=scope:prod', '--secret', 'id=other,from=env:OTHER'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ID\s+SOURCE\s+STATUS\s+BYTES\s+CACHE/m);
    expect(r.stdout).toMatch(/^tok\s+env:TOK\s+ok\s+6\s+scope:prod/m);
    expect(r.stdout).toMatch(/^other\s+env:OTHER\s+ok\s+6\s+stable/m);
  });

  test('a secret with a policy and a Dockerfile from stdin: exit 2 naming the secret and the fix', async () => {
    const { env, runs } = fake.record({ TOK: `tok-${nonce()}`, SECBUILD_CACHE_KEY: key });
    const r = await runCli(['-f', '-', '--secret', 'id=tok,from=env:TOK,cache=content', ctx.dir], { env, input: 'FROM x\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secret "tok" \(cache=content\) needs a Dockerfile secbuild can read, but the Dockerfile comes from stdin; give -f PATH/);
    expect(runs()).toEqual([]);
  });
});

describe('cache= in compose build, compose engine (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = tree({
    'compose.yaml': 'services:\n  app:\n    build: { context: ./app, secrets: [tok] }\n  other:\n    build: { context: ./other }\nsecrets:\n  tok: { environment: UNUSED }\n',
    'app/Dockerfile': `FROM ${BASE}\nRUN --mount=type=secret,id=tok true\n`,
    'other/Dockerfile': `FROM ${BASE}\nRUN true\n`,
  });
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });

  test("the override sets the service's derived Dockerfile and the MAC build-arg; other services are untouched", async () => {
    const { env, read } = fake.record({ TOK: `tok-${nonce()}`, SECBUILD_CACHE_KEY: 'k'.repeat(40) });
    const r = await runCli(['compose', 'build', '--secret', 'id=tok,from=env:TOK,cache=content'], { env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    const override = parse(read('override'), { logLevel: 'error' }) as { services: Record<string, { build: { dockerfile: string; args: Record<string, string> } }> };
    expect(Object.keys(override.services)).toEqual(['app']);
    expect(override.services.app!.build.dockerfile).toMatch(/\/secbuild-[^/]+\/dockerfile-0\/Dockerfile$/);
    expect(override.services.app!.build.args).toEqual({ SECBUILD_CACHE_IDtok: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(listDir(box.tmp)).toEqual([]);
  });
});
