/**
 * Rotation-aware caching against the real daemon: `cache=content` rebuilds
 * exactly the steps that mount the secret when its value changes (and reuses
 * them when it does not), `stable` keeps BuildKit's behaviour, `scope:NAME`
 * keeps a staging cache from satisfying a prod build; what enters the build is
 * a keyed MAC (no value, no plain hash in `docker history`, no key in `docker
 * save`), the user's Dockerfile-specific ignore file still applies, and
 * docker's errors name the user's Dockerfile and line.
 *
 * Cache hits are read from the plain progress output (`#N [..] RUN …` then
 * `#N CACHED`). Every build is of busybox, ~1 s.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { ranSteps as ran } from '../helpers/progress.js';
import { skipUnlessCI } from '../helpers/ci.js';
import { containsBytes, context, nonce, runCli, sandbox, tree } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';
import { composeV2 } from '../helpers/engines.js';
import { secretServiceProblem, secretTool } from '../helpers/keyring.js';

const hash = (alg: string, v: string) => createHash(alg).update(v).digest('hex');

describeE2E('cache policies', () => {
  const box = sandbox();
  const id = nonce();
  const tag = `secbuild-e2e-cache-${id}`;
  const key = randomBytes(32).toString('hex');
  const config = join(box.dir, 'config');
  const SIDE = `RUN echo side-${id} > /side`;
  const BEFORE = `RUN echo ${id} > /nonce`;
  const MOUNT = 'RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok > /h';
  let ctx: ReturnType<typeof context>;
  const outputs: string[] = [];

  beforeAll(() => {
    mkdirSync(config, { mode: 0o700 });
    ctx = context(['FROM $BASE AS side', SIDE, 'FROM $BASE', BEFORE, MOUNT, 'COPY --from=side /side /side', ''].join('\n'));
  });
  afterAll(async () => {
    await docker(['rmi', '-f', tag, `${tag}-ignore`]);
    ctx?.cleanup();
    box.cleanup();
  });

  async function build(value: string, policy: string | undefined, opts: { key?: string; dir?: string; extra?: string[] } = {}) {
    const spec = `id=tok,from=env:E2E_CACHE_TOK${policy ? `,cache=${policy}` : ''}`;
    const r = await runCli(['-t', tag, '--progress=plain', '--secret', spec, ...(opts.extra ?? []), opts.dir ?? ctx.dir], {
      env: baseEnv(box, { E2E_CACHE_TOK: value, SECBUILD_CACHE_KEY: opts.key ?? key, XDG_CONFIG_HOME: config }),
    });
    outputs.push(r.stdout + r.stderr);
    return { ...r, ran: ran(r.stderr) };
  }
  const imageHash = async () => (await docker(['run', '--rm', tag, 'cat', '/h'])).stdout.toString().split(/\s/)[0];

  test('content: same value reuses the step, a new value reruns only it, the old value is cached again', async () => {
    const [v1, v2] = [`first-${id}`, `second-${id}`];
    const first = await build(v1, 'content');
    expect(first.code).toBe(0);
    expect(first.ran).toEqual(expect.arrayContaining([MOUNT]));

    const again = await build(v1, 'content');
    expect(again.code).toBe(0);
    expect(again.ran).toEqual([]);

    const changed = await build(v2, 'content');
    expect(changed.ran).toEqual([MOUNT]); // the side stage and the step before it stay cached
    expect(await imageHash()).toBe(hash('sha256', v2));

    const back = await build(v1, 'content');
    expect(back.ran).toEqual([]);
    expect(await imageHash()).toBe(hash('sha256', v1));

    const rotated = await build(v1, 'content', { key: randomBytes(32).toString('hex') });
    expect(rotated.ran).toEqual([MOUNT]);
  });

  test('stable (the default): a changed value reuses the cached step, as BuildKit does', async () => {
    const first = await build(`stable-a-${id}`, undefined);
    expect(first.code).toBe(0);
    const changed = await build(`stable-b-${id}`, 'stable');
    expect(changed.ran).toEqual([]);
    expect(await imageHash()).toBe(hash('sha256', `stable-a-${id}`));
  });

  test('scope: the same value under scope:prod does not reuse the scope:staging step', async () => {
    const value = `scoped-${id}`;
    expect((await build(value, 'scope:staging')).ran).toEqual([MOUNT]);
    expect((await build(value, 'scope:staging')).ran).toEqual([]);
    expect((await build(value, 'scope:prod')).ran).toEqual([MOUNT]);
  });

  test('--verify finds nothing; docker history holds no value and no unkeyed hash; docker save holds no key', async () => {
    const value = `history-${id}`;
    // --verify searches the image for the value's forms (the MAC's input), not for the MAC: it finds nothing.
    const verified = await build(value, 'content', { extra: ['--verify'] });
    expect(verified.code, verified.stderr).toBe(0);
    const history = (await docker(['history', '--no-trunc', tag])).stdout;
    expect(history.toString()).toMatch(/SECBUILD_CACHE_IDtok=[0-9a-f]{64}/);
    for (const text of [value, hash('sha256', value), hash('sha1', value), hash('md5', value), Buffer.from(value).toString('base64')]) {
      expect(containsBytes(history, Buffer.from(text)), text).toBe(false);
    }
    const saved = (await docker(['save', tag])).stdout;
    expect(saved.length).toBeGreaterThan(1000);
    expect(containsBytes(saved, Buffer.from(key))).toBe(false);
    expect(containsBytes(saved, Buffer.from(key, 'hex'))).toBe(false);
    for (const out of outputs) expect(out).not.toContain(key);
  });

  test('the key is created on first use in the config directory when no SECBUILD_CACHE_KEY is given', async () => {
    const own = join(box.dir, 'own-config');
    const r = await runCli(['-t', tag, '--progress=plain', '--secret', 'id=tok,from=env:E2E_CACHE_TOK,cache=content', ctx.dir], {
      env: baseEnv(box, { E2E_CACHE_TOK: `own-${id}`, XDG_CONFIG_HOME: own, SECBUILD_KEYCHAIN_BACKEND: 'none-for-this-test' }),
    });
    expect(r.code).toBe(0);
    const stored = readFileSync(join(own, 'secbuild', 'cache-key'), 'utf8').trim();
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stdout + r.stderr).not.toContain(stored);
  });

  test.skipIf(skipUnlessCI(secretServiceProblem(), '[e2e] cache policies: the keychain-key case'))('with a Secret Service and no key file, the key is created in the keychain (secbuild/cache-key), not in a file', async () => {
    const before = await secretTool.lookup('secbuild', 'cache-key');
    const own = join(box.dir, 'keychain-config');
    try {
      const r = await runCli(['-t', tag, '--progress=plain', '--secret', 'id=tok,from=env:E2E_CACHE_TOK,cache=content', ctx.dir], {
        env: baseEnv(box, { E2E_CACHE_TOK: `kc-${id}`, XDG_CONFIG_HOME: own }),
      });
      expect(r.code, r.stderr).toBe(0);
      const stored = (await secretTool.lookup('secbuild', 'cache-key')).stdout.toString().trim();
      expect(stored).toMatch(/^[0-9a-f]{64}$/);
      expect(() => readFileSync(join(own, 'secbuild', 'cache-key'))).toThrow();
      expect(r.stdout + r.stderr).not.toContain(stored);
    } finally {
      // Only an item this test created is removed (a developer's own keyring keeps its key).
      if (before.code !== 0) await secretTool.clear('secbuild', 'cache-key');
    }
  });

  test("the user's Dockerfile-specific ignore file still applies to the derived Dockerfile", async () => {
    const dir = join(box.dir, 'ignore-ctx');
    mkdirSync(dir);
    writeFileSync(join(dir, 'app.Dockerfile'), `FROM secbuild-test/busybox:local\nCOPY . /ctx\nRUN --mount=type=secret,id=tok test ! -e /ctx/private.txt && test -e /ctx/kept.txt\n`);
    writeFileSync(join(dir, 'app.Dockerfile.dockerignore'), 'private.txt\n');
    writeFileSync(join(dir, 'private.txt'), 'not for the image');
    writeFileSync(join(dir, 'kept.txt'), 'kept');
    const r = await runCli(['-t', `${tag}-ignore`, '--progress=plain', '-f', join(dir, 'app.Dockerfile'), '--secret', 'id=tok,from=env:E2E_CACHE_TOK,cache=content', dir], {
      env: baseEnv(box, { E2E_CACHE_TOK: `ignore-${id}`, SECBUILD_CACHE_KEY: key, XDG_CONFIG_HOME: config }),
    });
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.code).toBe(0);
  });

  test("docker's errors name the user's Dockerfile and line, not the derived file's", async () => {
    const bad = context(['FROM $BASE', MOUNT, 'RUNX nothing', ''].join('\n'));
    try {
      const r = await build(`bad-${id}`, 'content', { dir: bad.dir });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`${join(bad.dir, 'Dockerfile')}:3`);
      expect(r.stderr).toMatch(/line 3\b/);
      expect(r.stderr).not.toMatch(/line 4\b/);
    } finally {
      bad.cleanup();
    }
  });
});

// Both compose engines: the direct engine's docker builds, and Compose v2 (whose build progress is on its stdout: secbuild puts it on stderr).
for (const engine of ['direct', 'compose'] as const) {
  const needs = () => (engine === 'compose' && composeV2.skip ? composeV2.why : undefined);
  describeE2E(`cache policies in compose build (${engine} engine)`, needs, () => {
    const box = sandbox();
    const id = nonce();
    const image = `secbuild-e2e-cache-${id}-compose`;
    const MOUNT = 'RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok > /h';
    const proj = tree({
      'compose.yaml': `services:\n  app:\n    image: ${image}\n    build:\n      context: ./app\n      secrets: [tok]\nsecrets:\n  tok:\n    environment: E2E_CACHE_UNUSED\n`,
      'app/Dockerfile': `FROM secbuild-test/busybox:local\nRUN echo ${id} > /nonce\n${MOUNT}\n`,
    });
    const key = randomBytes(32).toString('hex');
    afterAll(async () => {
      await docker(['rmi', '-f', image]);
      proj.cleanup();
      box.cleanup();
    });

    const build = async (value: string) => {
      const r = await runCli(['compose', '--engine', engine, 'build', '--progress=plain', '--secret', 'id=tok,from=env:E2E_CACHE_TOK,cache=content'], {
        env: baseEnv(box, { E2E_CACHE_TOK: value, SECBUILD_CACHE_KEY: key }),
        cwd: proj.dir,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).not.toMatch(/--progress is a global compose flag/);
      return ran(r.stderr);
    };

    test('the service reuses the step for the same value and reruns it for a new one', async () => {
      expect(await build(`one-${id}`)).toEqual(expect.arrayContaining([MOUNT]));
      expect(await build(`one-${id}`)).toEqual([]);
      expect(await build(`two-${id}`)).toEqual([MOUNT]);
      expect((await docker(['run', '--rm', image, 'cat', '/h'])).stdout.toString()).toContain(hash('sha256', `two-${id}`));
    });
  });
}
