/**
 * One matrix, every engine here (issue 23): the delivery / cleanup / verify
 * core on (a) docker 20.10's classic BuildKit, (b) docker 28 whose `docker
 * build` is buildx, against the main daemon; (c) daemon 26.1 through
 * DOCKER_HOST (unix socket and TCP with mutual TLS), through a docker context
 * (DOCKER_CONTEXT; `docker build` on 28 is buildx on that context) and
 * (d) `secbuild compose build` with the real Compose v2. The full suite stays
 * on (a) (delivery, masking, cleanup, verify, cache-policy .test.ts).
 *
 * Each case: the secret's sha256 computed inside the build is in the image
 * (read back on the daemon it was built on), `--verify` finds it clean on that
 * daemon, the secret root is empty; a failing RUN passes docker's code through
 * and leaves nothing behind. Afterwards no byte of any value is under daemon
 * 26's data root or exec root (the values travel only over the BuildKit session).
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { context, listDir, nonce, runCli, sandbox, sh, tree } from '../helpers/cli.js';
import { skipUnlessCI } from '../helpers/ci.js';
import { baseEnv, describeE2E, e2e } from '../helpers/e2e.js';
import { buildx, composeV2, D20, D28 } from '../helpers/engines.js';
import { grepDaemonRoots, tlsEnv } from '../helpers/remote-daemon.js';

const remote = inject('remote');
const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');
const id = nonce();
const r = remote.info;
// The second daemon's own reason, said once (the global setup fails in CI without it).
const noRemote = Boolean(remote.skip) && (Boolean(e2e.skip) || skipUnlessCI(remote.skip, '[e2e] engines matrix: the daemon 26.1 cases'));

interface Engine {
  name: string;
  docker: string;
  /** What a client needs to reach the daemon the build runs on. */
  env: () => NodeJS.ProcessEnv;
  buildkit: 'buildx' | 'legacy-env';
  skip: boolean;
}

const ENGINES: Engine[] = [
  { name: '(a) docker 20.10 classic BuildKit, main daemon', docker: D20, env: () => ({}), buildkit: 'legacy-env', skip: false },
  { name: '(b) docker 28 build = buildx, main daemon', docker: D28, env: () => ({}), buildkit: 'buildx', skip: buildx.skip },
  { name: '(c) docker 20.10, daemon 26.1 via DOCKER_HOST (unix)', docker: D20, env: () => ({ DOCKER_HOST: r!.host }), buildkit: 'legacy-env', skip: noRemote },
  { name: '(c) docker 28 buildx, daemon 26.1 via DOCKER_CONTEXT', docker: D28, env: () => ({ DOCKER_CONTEXT: 'secbuild-engines-d26' }), buildkit: 'buildx', skip: noRemote || buildx.skip },
  { name: '(c) docker 28 buildx, daemon 26.1 over TCP+TLS', docker: D28, env: () => tlsEnv(r!), buildkit: 'buildx', skip: noRemote || buildx.skip },
  { name: '(c) docker 20.10, daemon 26.1 over TCP+TLS', docker: D20, env: () => tlsEnv(r!), buildkit: 'legacy-env', skip: noRemote },
];

describeE2E('engines matrix', () => {
  const box = sandbox();
  const dockerConfig = join(box.dir, 'docker-config');
  const values: string[] = [];
  const built: Array<[Engine, string]> = [];
  const ctx = context(`FROM $BASE\nRUN --mount=type=secret,id=tok,required=true echo ${id} >/dev/null && sha256sum /run/secrets/tok | cut -d' ' -f1 > /out\n`);
  const bad = context(`FROM $BASE\nRUN --mount=type=secret,id=tok test ! -s /run/secrets/tok || exit 23\n`);
  const envOf = (e: Engine, extra: NodeJS.ProcessEnv = {}) => baseEnv(box, { SECBUILD_DOCKER: e.docker, DOCKER_CONFIG: dockerConfig, ...e.env(), ...extra });
  const client = (e: Engine, args: string[]) => sh(e.docker, args, { env: { ...process.env, DOCKER_CONFIG: dockerConfig, ...e.env() } });
  afterAll(async () => {
    for (const [e, tag] of built) await client(e, ['rmi', '-f', tag]);
    ctx.cleanup();
    bad.cleanup();
    box.cleanup();
  });

  for (const e of ENGINES) test.skipIf(e.skip)(`${e.name}: the secret arrives (its hash is in the image), --verify is clean on that daemon, nothing left`, async () => {
    if (e.env().DOCKER_CONTEXT) {
      const made = await sh(D28, ['context', 'create', 'secbuild-engines-d26', '--docker', `host=${r!.host}`], { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
      expect(made.code, made.stderr).toBe(0);
    }
    const value = `engines-${id}-${nonce()}`;
    values.push(value);
    const tag = `secbuild-engines-${id}:${built.length}`;
    const report = join(box.dir, `report-${built.length}.json`);
    const res = await runCli(['--secret', 'id=tok,from=env:ENG_TOK', '--no-cache', '--verify', '--report', report, '-t', tag, ctx.dir], { env: envOf(e, { ENG_TOK: value }) });
    built.push([e, tag]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/verify: .*: clean/);
    expect(res.stdout + res.stderr).not.toContain(value);
    expect(listDir(box.tmp)).toEqual([]);
    const out = await client(e, ['run', '--rm', '--network=none', tag, 'cat', '/out']);
    expect(out.stdout.toString().trim()).toBe(sha256(value));
    // detection agrees with what `docker build` is on this client
    const { readFileSync } = await import('node:fs');
    expect(JSON.parse(readFileSync(report, 'utf8')).engine.buildkit).toBe(e.buildkit);
  });

  for (const e of ENGINES) test.skipIf(e.skip)(`${e.name}: a failing RUN passes docker's code through and removes the files`, async () => {
    const res = await runCli(['--secret', 'id=tok,from=env:ENG_TOK', '--no-cache', '-t', `secbuild-engines-${id}:bad`, bad.dir], { env: envOf(e, { ENG_TOK: `bad-${id}` }) });
    // 20.10's classic front end exits 1 on a failed RUN; buildx exits 1 as well (the RUN's 23 is in the message)
    expect(res.code).toBe(1);
    expect(listDir(box.tmp)).toEqual([]);
  });

  describe.skipIf(noRemote || composeV2.skip)('(d) Compose v2 on daemon 26.1', () => {
    test('compose build delivers the secret through Compose v2 on daemon 26.1', async () => {
      const value = `engines-compose-${id}-${nonce()}`;
      values.push(value);
      const p = `secbuild-engines-${id}`;
      const proj = tree({
        'compose.yaml': `services:\n  app: { build: { context: app, args: { BASE: "${'secbuild-test/busybox:local'}" }, secrets: [tok] } }\n`,
        'app/Dockerfile': `ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok,required=true echo ${id} >/dev/null && sha256sum /run/secrets/tok | cut -d' ' -f1 > /out\n`,
      });
      const e = ENGINES[2]!;
      try {
        const res = await runCli(['compose', '-p', p, 'build', '--no-cache', '--secret', 'id=tok,from=env:ENG_TOK'], { env: envOf(e, { ENG_TOK: value }), cwd: proj.dir });
        built.push([e, `${p}-app`]);
        expect(res.code, res.stderr).toBe(0);
        expect(res.stderr).toMatch(/compose engine: compose/);
        expect(listDir(box.tmp)).toEqual([]);
        const out = await client(e, ['run', '--rm', '--network=none', `${p}-app`, 'cat', '/out']);
        expect(out.stdout.toString().trim()).toBe(sha256(value));
      } finally {
        proj.cleanup();
      }
    });
  });

  test.skipIf(noRemote)('no byte of any value is under daemon 26\'s data root or exec root', async () => {
    expect(values.length).toBeGreaterThan(0);
    for (const v of values) {
      for (const form of [v, Buffer.from(v).toString('base64').replace(/=+$/, '')]) {
        const g = await grepDaemonRoots(r!, form);
        expect(g.files, `found ${form.slice(0, 12)}… under daemon 26`).toEqual([]);
        expect(g.errors).toEqual([]);
      }
    }
  });

  test('tcp:// without TLS: one warning line says the BuildKit session is unencrypted', async () => {
    const res = await runCli(['--secret', 'id=tok,from=env:ENG_TOK', '-t', `secbuild-engines-${id}:plain`, ctx.dir], {
      env: baseEnv(box, { ENG_TOK: `plain-${id}`, DOCKER_HOST: 'tcp://127.0.0.1:1', DOCKER_TLS_VERIFY: '', DOCKER_CONFIG: dockerConfig }),
    });
    expect(res.stderr.split('\n').filter((l) => /unencrypted/.test(l))).toHaveLength(1);
    expect(listDir(box.tmp)).toEqual([]);
  });
});
