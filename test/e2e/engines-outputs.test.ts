/**
 * Issue 23, for real: docker's `--context` given to secbuild reaches daemon
 * 26.1 for the build and for --verify (the image exists only there); buildx's
 * outputs are verified where they land (`-o type=local`, `-o type=tar`: a
 * planted secret is exit 4, a mounted one is clean); the archive adapter
 * reads both image archive layouts that `-o type=docker|oci` write (made here
 * with `docker save`: the docker driver refuses those exporters); the cache
 * policy `cache=content` works on daemon 26.1 and through buildx.
 *
 * Images are named secbuild-engines2-… and removed afterwards.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ranSteps as ran } from '../helpers/progress.js';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { context, listDir, nonce, runCli, sandbox, sh } from '../helpers/cli.js';
import { skipUnlessCI } from '../helpers/ci.js';
import { baseEnv, describeE2E, e2e } from '../helpers/e2e.js';
import { buildx, D20, D28 } from '../helpers/engines.js';
import { patternsFor } from '../../src/secrets/forms.js';
import { Secret } from '../../src/secrets/secret.js';
import { verifyOutput } from '../../src/verify/output.js';

const remote = inject('remote');
const id = nonce();
const r = remote.info;
// The second daemon's own reason, said once (the global setup fails in CI without it).
const noRemote = Boolean(remote.skip) && (Boolean(e2e.skip) || skipUnlessCI(remote.skip, '[e2e] engines outputs: the daemon 26.1 cases'));
const CTX_NAME = `secbuild-engines2-d26-${id}`;


describeE2E('engines: --context, buildx outputs, cache policy', () => {
  const box = sandbox();
  const dockerConfig = join(box.dir, 'docker-config');
  const images: Array<[NodeJS.ProcessEnv, string]> = [];
  const leak = context(`FROM $BASE\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /leaked-${id}\n`);
  const clean = context(`FROM $BASE\nRUN --mount=type=secret,id=tok test -s /run/secrets/tok && echo ${id} > /ok\n`);
  const env = (extra: NodeJS.ProcessEnv) => baseEnv(box, { DOCKER_CONFIG: dockerConfig, ...extra });
  const client = (docker: string, args: string[], extra: NodeJS.ProcessEnv = {}) => sh(docker, args, { env: { ...process.env, DOCKER_CONFIG: dockerConfig, ...extra } });
  const main = { DOCKER_HOST: '', DOCKER_CONTEXT: '' };
  afterAll(async () => {
    for (const [e, tag] of images) await client(D20, ['rmi', '-f', tag], e);
    leak.cleanup();
    clean.cleanup();
    box.cleanup();
  });

  describe.skipIf(noRemote)('--context NAME: daemon 26.1', () => {
    // No DOCKER_HOST at all: docker 20.10 lets even an empty DOCKER_HOST override DOCKER_CONTEXT.
    const d26 = () => ({ DOCKER_CONTEXT: CTX_NAME });
    for (const [name, docker, skip] of [['docker 20.10', D20, false], ['docker 28 buildx', D28, buildx.skip]] as const)
    test.skipIf(skip)(`${name}: the build and --verify reach the context's daemon (the image exists only there)`, async () => {
      mkdirSync(dockerConfig, { recursive: true });
      if (!listDir(dockerConfig).includes('contexts')) {
        const made = await client(D28, ['context', 'create', CTX_NAME, '--docker', `host=${r!.host}`]);
        expect(made.code, made.stderr).toBe(0);
      }
      const value = `ctx-${id}-${nonce()}`;
      const tag = `secbuild-engines2-${id}:ctx-${docker === D20 ? '20' : '28'}`;
      images.push([d26(), tag]);
      const ok = await runCli(['--context', CTX_NAME, '--secret', 'id=tok,from=env:E2_TOK', '--no-cache', '--verify', '-t', tag, clean.dir], { env: env({ SECBUILD_DOCKER: docker, E2_TOK: value, ...main }) });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/verify: .*: clean/);
      expect((await client(D20, ['image', 'inspect', tag], d26())).code).toBe(0);
      expect((await client(D20, ['image', 'inspect', tag], main)).code).not.toBe(0);
      // A planted secret: found by --verify on daemon 26 (on the main daemon the id would not exist: exit 2)
      const bad = await runCli(['--context', CTX_NAME, '--secret', 'id=tok,from=env:E2_TOK', '--no-cache', '--verify', '-t', `${tag}-leak`, leak.dir], { env: env({ SECBUILD_DOCKER: docker, E2_TOK: value, ...main }) });
      images.push([d26(), `${tag}-leak`]);
      expect(bad.code, bad.stderr).toBe(4);
      expect(bad.stderr).toMatch(new RegExp(`LEAK secret "tok" .*leaked-${id}`));
      expect(bad.stdout + bad.stderr).not.toContain(value);
      // secbuild verify --context finds it too
      const again = await runCli(['verify', '--context', CTX_NAME, '--secret', 'id=tok,from=env:E2_TOK', `${tag}-leak`], { env: env({ SECBUILD_DOCKER: docker, E2_TOK: value, ...main }) });
      expect(again.code, again.stderr).toBe(4);
      expect(listDir(box.tmp)).toEqual([]);
    });
  });

  describe.skipIf(buildx.skip)('buildx outputs on the main daemon', () => {
    test.each([
      ['type=local,dest=DIR', (d: string) => `type=local,dest=${d}/out-dir`],
      ['type=tar,dest=FILE', (d: string) => `type=tar,dest=${d}/out.tar`],
    ])('-o %s: --verify finds a planted secret (exit 4) and passes a mounted one', async (_, out) => {
      const value = `out-${id}-${nonce()}`;
      // A directory of its own per build: the local exporter writes into an existing directory without emptying it.
      const run = (ctxDir: string) => {
        const dir = join(box.dir, nonce());
        mkdirSync(dir);
        return runCli(['--secret', 'id=tok,from=env:E2_TOK', '--no-cache', '--verify', '-o', out(dir), ctxDir], { env: env({ SECBUILD_DOCKER: D28, E2_TOK: value, ...main }) });
      };
      const bad = await run(leak.dir);
      expect(bad.code, bad.stderr).toBe(4);
      expect(bad.stderr).toMatch(new RegExp(`verify: LEAK secret "tok" \\(env:E2_TOK\\) in \\S+: /?leaked-${id}`));
      expect(bad.stderr).toMatch(/Do not publish it/);
      expect(bad.stdout + bad.stderr).not.toContain(value);
      const ok = await run(clean.dir);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/verify: \S+: clean; searched 1 layer/);
      expect(listDir(box.tmp)).toEqual([]);
    });

    test('-o type=oci: the docker driver refuses it, secbuild passes docker\'s exit on and says nothing is clean', async () => {
      const res = await runCli(['--secret', 'id=tok,from=env:E2_TOK', '--verify', '-o', `type=oci,dest=${box.dir}/img.tar`, clean.dir], { env: env({ SECBUILD_DOCKER: D28, E2_TOK: `oci-${id}`, ...main }) });
      expect(res.code).toBe(1);
      expect(res.stderr).toMatch(/OCI exporter is not supported for the docker driver/);
      expect(res.stderr).not.toMatch(/clean/);
    });
  });

  for (const [name, daemon, skip] of [
    ['docker save of 20.10 (Docker layout)', main, false],
    ['docker save of 26.1 (OCI layout)', { DOCKER_HOST: r?.host ?? '', DOCKER_CONTEXT: '' }, noRemote],
  ] as const)
  test.skipIf(skip)(`the archive adapter searches ${name} as -o type=docker|oci writes it`, async () => {
    const value = `arch-${id}-${nonce()}`;
    const tag = `secbuild-engines2-${id}:arch-${images.length}`;
    const built = await runCli(['--secret', 'id=tok,from=env:E2_TOK', '--no-cache', '-t', tag, leak.dir], { env: env({ SECBUILD_DOCKER: D20, E2_TOK: value, ...daemon }) });
    images.push([daemon, tag]);
    expect(built.code, built.stderr).toBe(0);
    const file = join(box.dir, `${nonce()}.tar`);
    expect((await client(D20, ['save', '-o', file, tag], daemon)).code).toBe(0);
    const targets = { patterns: patternsFor([new Secret('tok', 'env:E2_TOK', Buffer.from(value))]), sources: new Map([['tok', 'env:E2_TOK']]) };
    const result = await verifyOutput({ kind: 'archive', path: file, flag: '--output type=docker,dest=x' }, targets);
    expect(result.clean).toBe(false);
    expect(result.hits.map((h) => h.where).join('\n')).toMatch(new RegExp(`layer \\d+.*leaked-${id}`));
    expect(result.id).toMatch(/^sha256:/);
  });

  const cacheEngines = [
    { name: 'daemon 26.1 (DOCKER_HOST)', docker: D20, daemon: () => ({ DOCKER_HOST: r!.host, DOCKER_CONTEXT: '' }), skip: noRemote },
    { name: 'buildx (docker 28, main daemon)', docker: D28, daemon: () => main, skip: buildx.skip },
  ];
  for (const e of cacheEngines) test.skipIf(e.skip)(`cache=content on ${e.name}: a new value reruns the mounting step, the same value reuses it`, async () => {
    const MOUNT = 'RUN --mount=type=secret,id=tok sha256sum /run/secrets/tok > /h';
    const ctx = context(`FROM $BASE\nRUN echo ${id}-${e.docker.length} > /nonce\n${MOUNT}\n`);
    const tag = `secbuild-engines2-${id}:cache-${e.docker === D20 ? '26' : 'bx'}`;
    images.push([e.daemon(), tag]);
    const build = async (value: string) => {
      const res = await runCli(['-t', tag, '--progress=plain', '--secret', 'id=tok,from=env:E2_TOK,cache=content', ctx.dir], {
        env: env({ SECBUILD_DOCKER: e.docker, E2_TOK: value, SECBUILD_CACHE_KEY: 'k'.repeat(64), XDG_CONFIG_HOME: join(box.dir, 'config'), ...e.daemon() }),
      });
      expect(res.code, res.stderr).toBe(0);
      return ran(res.stderr);
    };
    try {
      const [v1, v2] = [`c1-${id}-${nonce()}`, `c2-${id}-${nonce()}`];
      expect(await build(v1)).toEqual(expect.arrayContaining([MOUNT]));
      expect(await build(v1)).toEqual([]);
      expect(await build(v2)).toEqual([MOUNT]);
    } finally {
      ctx.cleanup();
    }
  });
});
