/**
 * The engine-detection cache follows the buildx plugin (src/engines/docker/detect.ts):
 * with this machine's real 28.x docker CLI (/usr/local/bin/docker) and the
 * real buildx plugin, a build caches "buildx"; once the plugin is gone the
 * next build gets secbuild's own refusal (exit 2, naming the missing plugin),
 * not docker's "buildx component is missing" (exit 1) from a stale cache.
 *
 * The system's plugin directories are hidden inside a private mount
 * namespace of the run (`unshare -m`, an empty directory bound over each), so
 * the plugin the run sees is the one in $DOCKER_CONFIG/cli-plugins, which the
 * test adds (a copy of the system's plugin) and removes. Nothing outside that namespace changes.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { context, envFor, nonce, runCli, sandbox, type RunResult } from '../helpers/cli.js';
import { describeE2E, docker } from '../helpers/e2e.js';
import { hidePluginsMissing, SYSTEM_PLUGINS, withoutSystemPlugins } from '../helpers/hidden-plugins.js';

const DOCKER28 = '/usr/local/bin/docker';
const BUILDX = SYSTEM_PLUGINS.map((d) => join(d, 'docker-buildx')).find(existsSync);

const missing = (): string | undefined =>
  !existsSync(DOCKER28) ? `${DOCKER28} (a 23+ docker CLI) is missing`
  : !BUILDX ? 'no docker-buildx plugin in the system plugin directories'
  : hidePluginsMissing() || undefined;
describeE2E('engine detection cache and the buildx plugin', missing, () => {
  const box = sandbox('sb-engc-');
  const image = `secbuild-trust-engine:${nonce()}`;
  const dockerConfig = join(box.dir, 'docker-config');
  const plugin = join(dockerConfig, 'cli-plugins', 'docker-buildx');
  mkdirSync(join(dockerConfig, 'cli-plugins'), { recursive: true });
  const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok test -s /run/secrets/tok\n');
  afterAll(async () => {
    await docker(['rmi', '-f', image]);
    ctx.cleanup();
    box.cleanup();
  });

  /** secbuild in a mount namespace where the system plugin directories are empty. */
  const build = (): Promise<RunResult> =>
    runCli(['-t', image, '--secret', 'id=tok,from=env:E2E_TOK', ctx.dir], {
      env: envFor(box, DOCKER28, { DOCKER_CONFIG: dockerConfig, E2E_TOK: 'engine-cache-value' }),
      prefix: withoutSystemPlugins(box.dir),
    });

  test('after a build with the plugin, removing it gives secbuild\'s refusal, not docker\'s error from a stale cache', async () => {
    copyFileSync(BUILDX!, plugin); // a copy: a symlink would point into a hidden directory
    const first = await build();
    expect(first.code, first.stderr).toBe(0);
    rmSync(plugin);
    const second = await build();
    expect(second.stderr).toMatch(/without the buildx plugin, so it cannot build with BuildKit/);
    expect(second.stderr).not.toMatch(/buildx component is missing/);
    expect(second.code).toBe(2);
  });
});
