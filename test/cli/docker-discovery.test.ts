/**
 * Docker discovery without a daemon (issue 11 item 2): when the chosen docker
 * is a 23+ client without buildx, secbuild names the other docker CLI on
 * PATH that can build (a 20.10 one), in the build's error and in doctor; a
 * build with no secret at all goes to docker unchanged with a note. Two
 * docker stand-ins answer the version probes and record argv and env: these
 * tests check secbuild's decisions and argv only (argv and files only). The
 * same path against this machine's real 28.x client is in
 * test/e2e/docker-discovery.test.ts.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { context, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('docker discovery (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  // A second CLI further down PATH: the same stand-in, answering as Debian's 20.10 client.
  const older = join(box.dir, 'older-bin');
  mkdirSync(older);
  writeFileSync(join(older, 'docker'), `#!/bin/sh\nFAKE_CLIENT_VERSION=20.10.24+dfsg1 exec ${fake.path} "$@"\n`);
  chmodSync(join(older, 'docker'), 0o755);
  const plain = context('FROM $BASE\nRUN true\n');
  const mounts = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
  afterAll(() => {
    plain.cleanup();
    mounts.cleanup();
    box.cleanup();
  });
  const record = (extra: NodeJS.ProcessEnv = {}) => {
    const r = fake.record({ FAKE_CLIENT_VERSION: '28.2.2', ...extra });
    return { ...r, env: { ...r.env, PATH: `${join(box.dir, 'bin')}:${older}:${process.env.PATH}` } };
  };

  test('a build with a secret on a 28.x CLI without buildx names the 20.10 CLI that can, exit 2, docker not run (argv and files only)', async () => {
    const { env, runs } = record({ E2E_TOKEN: 'x-secret-value' });
    const r = await runCli(['--secret', 'id=tok,from=env:E2E_TOKEN', mounts.dir], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${join(older, 'docker')} (20.10) can: rerun with SECBUILD_DOCKER=${join(older, 'docker')}`);
    expect(r.stderr).toContain('older than 23 builds with BuildKit when DOCKER_BUILDKIT=1');
    expect(r.stderr).toContain('Debian 12 has no docker-buildx package');
    expect(runs()).toEqual([]);
  });

  test('doctor prints the same advice on its BuildKit line (argv and files only)', async () => {
    const { env } = record();
    const r = await runCli(['doctor'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^FAIL  BuildKit: .*without the buildx plugin.* ${join(older, 'docker').replaceAll('/', '\\/')} \\(20\\.10\\) can: rerun with SECBUILD_DOCKER=`, 'm'));
  });

  test('a build with no secret at all goes to docker unchanged, without DOCKER_BUILDKIT=1, with a one-line note (argv and files only)', async () => {
    const { env, runs, read } = record();
    const r = await runCli(['-t', 'app', plain.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^secbuild: no secret is given and \S+ cannot build with BuildKit: the build goes to docker unchanged/m);
    expect(runs()).toEqual([`build -t app ${plain.dir}`]);
    expect(read('env')).not.toMatch(/^DOCKER_BUILDKIT=/m);
  });
});
