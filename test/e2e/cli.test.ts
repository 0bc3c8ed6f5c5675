/**
 * The CLI around a real build: preflight follows --target and docker's flags
 * pass through (-t, --target, --iidfile), engine detection refuses the
 * machine's real 23+ client without buildx, and docker's environment holds
 * no variable a secret was read from. The daemon-free parts (preflight
 * errors, --dry-run, `secbuild secrets`) are in test/cli/build.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { context, listDir, nonce, pidsMatching, runCli, sandbox, startCli, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';
import { skipUnlessCI } from '../helpers/ci.js';

const VALUE = `cli-${nonce()}-secret`;

/** The path when it is a docker CLI of version 23 or later without the buildx plugin, else undefined. */
function modernClientWithoutBuildx(path: string): string | undefined {
  try {
    const version = execFileSync(path, ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const hasBuildx = spawnSync(path, ['buildx', 'version'], { stdio: 'ignore' }).status === 0;
    if (Number(version.split('.')[0]) >= 23 && !hasBuildx) return path;
  } catch {
    // not there
  }
  return undefined;
}

describeE2E('cli', () => {
  const box = sandbox();
  const env = baseEnv(box, { E2E_TOKEN: VALUE });
  const ctx = context(
    [
      'FROM $BASE AS deps',
      'RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len',
      'FROM $BASE AS other',
      'RUN --mount=type=secret,id=never-provided true',
      'FROM $BASE AS final',
      'COPY --from=deps /len /len',
      '',
    ].join('\n'),
  );
  afterAll(async () => {
    await docker(['rmi', '-f', 'secbuild-e2e/cli:final']);
    ctx.cleanup();
    box.cleanup();
  });

  test('preflight follows --target: stages the build does not reach are not checked', async () => {
    const iid = join(box.dir, 'iid');
    const r = await runCli(['--secret', 'id=tok,from=env:E2E_TOKEN', '--target', 'final', '-t', 'secbuild-e2e/cli:final', '--iidfile', iid, ctx.dir], { env });
    expect(r.code).toBe(0);
    expect(readFileSync(iid, 'utf8')).toMatch(/^sha256:[0-9a-f]{64}$/);
    const len = (await docker(['run', '--rm', 'secbuild-e2e/cli:final', 'cat', '/len'])).stdout.toString().trim();
    expect(Number(len)).toBe(Buffer.byteLength(VALUE));
  });

  // This machine kind ships a 28.x client without buildx at /usr/local/bin/docker (the one first on PATH).
  const modern = modernClientWithoutBuildx('/usr/local/bin/docker');
  skipUnlessCI(!modern && '/usr/local/bin/docker is not a docker CLI >= 23 without buildx', '[e2e] the engine-detection cases');
  test.skipIf(!modern)('engine detection: a 23+ docker CLI without buildx is refused with exit 2, naming the docker CLI here that can', async () => {
    const r = await runCli(['--secret', 'id=tok,from=env:E2E_TOKEN', '--target', 'final', ctx.dir], { env: { ...env, SECBUILD_DOCKER: modern! } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/without the buildx plugin, so it cannot build with BuildKit\./);
    // The tier's own docker (Debian's 20.10, DOCKER_BUILDKIT=1) is on PATH or at /usr/bin/docker: discovery names it.
    expect(r.stderr).toMatch(/\/\S*docker \(\d+\.\d+\) can: rerun with SECBUILD_DOCKER=\/\S*docker/);
    expect(r.stderr).toContain('Debian 12 has no docker-buildx package');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.skipIf(!modern)('a Dockerfile with no secret builds through a 23+ CLI without buildx: passed to docker unchanged, with a note', async () => {
    const plain = context('FROM $BASE\nRUN echo plain > /plain\n');
    try {
      const r = await runCli(['-t', 'secbuild-e2e/cli:plain', plain.dir], { env: { ...env, SECBUILD_DOCKER: modern! } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^secbuild: no secret is given and \S+ cannot build with BuildKit: the build goes to docker unchanged/m);
      expect((await docker(['run', '--rm', 'secbuild-e2e/cli:plain', 'cat', '/plain'])).stdout.toString().trim()).toBe('plain');
    } finally {
      plain.cleanup();
      await docker(['image', 'rm', '-f', 'secbuild-e2e/cli:plain']);
    }
  });

  test('docker\'s environment has no variable a secret was read from', async () => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const probe = context(`FROM $BASE\nRUN --mount=type=secret,id=tok sleep 5${marker}\n`);
    try {
      const run = startCli(['--secret', 'id=tok,from=env:E2E_TOKEN', '--no-cache', probe.dir], { env: { ...env, E2E_OTHER: 'kept' } });
      await waitFor('the RUN to start', () => pidsMatching(`sleep 5${marker}`).length > 0, 60_000);
      const [dockerPid] = pidsMatching(`--secret id=tok,src=${box.tmp}`);
      const environ = readFileSync(`/proc/${dockerPid}/environ`, 'utf8').split('\0');
      run.child.kill('SIGINT');
      await run.done;
      expect(environ).toContain('E2E_OTHER=kept');
      expect(environ).toContain('DOCKER_BUILDKIT=1');
      expect(environ.filter((e) => e.startsWith('E2E_TOKEN='))).toEqual([]);
      expect(environ.join('\n')).not.toContain(VALUE);
    } finally {
      probe.cleanup();
    }
  });
});
