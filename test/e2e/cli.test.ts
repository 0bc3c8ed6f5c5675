/**
 * The CLI around a real build: preflight follows --target and docker's flags
 * pass through (-t, --target, --iidfile), engine detection refuses the
 * machine's real 23+ client with its buildx plugin hidden, and docker's environment holds
 * no variable a secret was read from. The daemon-free parts (preflight
 * errors, --dry-run, `secbuild secrets`) are in test/cli/build.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { context, listDir, nonce, pidsMatching, runCli, sandbox, sh, startCli, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';
import { hidePluginsMissing, withoutSystemPlugins } from '../helpers/hidden-plugins.js';

const RUN = nonce();
const VALUE = `cli-${RUN}-secret`;

/** The machine's real 23+ docker CLI (its buildx plugin is hidden by test/helpers/hidden-plugins.ts). */
const DOCKER28 = '/usr/local/bin/docker';

/** Why `path` is not a docker CLI of version 23 or later, or nothing. */
function modernClientMissing(path: string): string | undefined {
  try {
    const version = execFileSync(path, ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return Number(version.split('.')[0]) >= 23 ? undefined : `${path} is docker ${version}, not 23 or later`;
  } catch {
    return `${path} is not a docker CLI`;
  }
}

describeE2E('cli', () => {
  const box = sandbox();
  const env = baseEnv(box, { E2E_TOKEN: VALUE });
  const ctx = context(
    [
      'FROM $BASE AS deps',
      // BuildKit's cache key has no secret in it: the run's nonce keeps a cached step of another run's (another length's) value out.
      `RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok > /len # ${VALUE.length}-${RUN}`,
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

  /**
   * The machine's real 28.x client (/usr/local/bin/docker) without buildx: the
   * plugin is installed system-wide, so these runs hide the system plugin
   * directories in a mount namespace (test/helpers/hidden-plugins.ts), with a
   * DOCKER_CONFIG of their own that holds no plugin.
   */
  describeE2E('a 23+ docker CLI without buildx', () => modernClientMissing(DOCKER28) || hidePluginsMissing(), () => {
    const noBuildx = { prefix: withoutSystemPlugins(box.dir), env: { ...env, SECBUILD_DOCKER: DOCKER28, DOCKER_CONFIG: join(box.dir, 'docker-config') } };

    test('the namespace hides the buildx plugin from the real docker 28 (what the cases below stand on)', async () => {
      const r = await sh(noBuildx.prefix[0]!, [...noBuildx.prefix.slice(1), DOCKER28, 'buildx', 'version'], { env: noBuildx.env });
      expect(r.code).not.toBe(0);
      expect((await docker(['buildx', 'version'])).code, 'outside the namespace the plugin is still there').toBe(0);
    });

    test('engine detection: a 23+ docker CLI without buildx is refused with exit 2, naming the docker CLI here that can', async () => {
      const r = await runCli(['--secret', 'id=tok,from=env:E2E_TOKEN', '--target', 'final', ctx.dir], noBuildx);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/without the buildx plugin, so it cannot build with BuildKit\./);
      // The tier's own docker (Debian's 20.10, DOCKER_BUILDKIT=1) is on PATH or at /usr/bin/docker: discovery names it.
      expect(r.stderr).toMatch(/\/\S*docker \(\d+\.\d+\) can: rerun with SECBUILD_DOCKER=\/\S*docker/);
      expect(r.stderr).toContain('Debian 12 has no docker-buildx package');
      expect(listDir(box.tmp)).toEqual([]);
    });

    test('a Dockerfile with no secret builds through a 23+ CLI without buildx: passed to docker unchanged, with a note', async () => {
      const plain = context('FROM $BASE\nRUN echo plain > /plain\n');
      try {
        const r = await runCli(['-t', 'secbuild-e2e/cli:plain', plain.dir], noBuildx);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(/^secbuild: no secret is given and \S+ cannot build with BuildKit: the build goes to docker unchanged/m);
        expect((await docker(['run', '--rm', 'secbuild-e2e/cli:plain', 'cat', '/plain'])).stdout.toString().trim()).toBe('plain');
      } finally {
        plain.cleanup();
        await docker(['image', 'rm', '-f', 'secbuild-e2e/cli:plain']);
      }
    });
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
