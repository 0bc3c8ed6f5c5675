/**
 * A remote builder (issue 12): the second dockerd of
 * test/helpers/remote-daemon.ts — its own socket, data root and exec root —
 * stands in for a BuildKit host that is not this machine's. secbuild builds
 * against it through DOCKER_HOST and through a docker context; the secret
 * arrives (its sha256, computed inside the build, is in the image), the files
 * stay on the client (the secret root is empty after, nothing was written on
 * the daemon's side) and no byte of the value, raw or base64, is anywhere
 * under the daemon's data root or exec root afterwards: the value travelled
 * only over the BuildKit session.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, expect, inject, test } from 'vitest';
import { context, listDir, nonce, runCli, sandbox, sh } from '../helpers/cli.js';
import { baseEnv, describeE2E, DOCKER } from '../helpers/e2e.js';
import { grepDaemonRoots } from '../helpers/remote-daemon.js';

const remote = inject('remote');

describeE2E('a remote builder (a second dockerd)', () => remote.skip, () => {
  const r = remote.info!;
  const box = sandbox();
  const id = nonce();
  const values = { host: `remote-${id}-${nonce()}-DOCKER_HOST`, ctx: `remote-${id}-${nonce()}-CONTEXT` };
  const ctx = context(
    // The nonce and --no-cache keep BuildKit from answering from its cache: secrets are not part of
    // the key, so the second build would otherwise reuse the first one's /out.
    `FROM $BASE\nRUN --mount=type=secret,id=tok,required=true echo ${id} >/dev/null && sha256sum /run/secrets/tok | cut -d' ' -f1 > /out\n`,
  );
  const dockerConfig = join(box.dir, 'docker-config');
  const remoteDocker = (args: string[]) => sh(DOCKER, ['-H', r.host, ...args]);
  const sha256 = (v: string) => createHash('sha256').update(v).digest('hex');
  afterAll(async () => {
    await remoteDocker(['rmi', '-f', `secbuild-e2e-remote:${id}-host`, `secbuild-e2e-remote:${id}-ctx`]);
    ctx.cleanup();
    box.cleanup();
  });

  test.each([
    { via: 'DOCKER_HOST', key: 'host' as const, env: () => ({ DOCKER_HOST: r.host }) },
    { via: 'a docker context', key: 'ctx' as const, env: () => ({ DOCKER_CONFIG: dockerConfig, DOCKER_CONTEXT: 'secbuild-e2e-remote' }) },
  ])('through $via: the secret is delivered and the image is on the remote daemon only', async ({ key, env }) => {
    if (key === 'ctx') {
      const made = await sh(DOCKER, ['context', 'create', 'secbuild-e2e-remote', '--docker', `host=${r.host}`], { env: { ...process.env, DOCKER_CONFIG: dockerConfig } });
      expect(made.code, made.stderr).toBe(0);
    }
    const tag = `secbuild-e2e-remote:${id}-${key}`;
    const runEnv = baseEnv(box, { REMOTE_TOK: values[key], ...env() });
    const built = await runCli(['--secret', 'id=tok,from=env:REMOTE_TOK', '--network=none', '--no-cache', '--verify', '-t', tag, ctx.dir], { env: runEnv });
    expect(built.code, built.stderr).toBe(0);
    expect(built.stderr).toMatch(/verify: .*: clean/);
    expect(listDir(box.tmp)).toEqual([]);
    const out = await remoteDocker(['run', '--rm', '--network=none', tag, 'cat', '/out']);
    expect(out.stdout.toString().trim()).toBe(sha256(values[key]));
    // The client's own daemon never saw the build.
    expect((await sh(DOCKER, ['image', 'inspect', tag])).code).not.toBe(0);
  });

  test('no byte of either value is under the remote daemon\'s data root or exec root', async () => {
    const forms = Object.values(values).flatMap((v) => [v, Buffer.from(v).toString('base64').replace(/=+$/, '')]);
    for (const form of forms) {
      const g = await grepDaemonRoots(r, form);
      expect(g.files, `found ${form.slice(0, 12)}… under the daemon's directories`).toEqual([]);
      expect(g.errors).toEqual([]);
    }
  });
});
