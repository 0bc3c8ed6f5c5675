/**
 * The engine-detection cache follows every plugin directory docker searches,
 * including those ~/.docker/config.json names in `cliPluginsExtraDirs` (issue
 * 22 break 14): a docker-buildx added to or removed from one of them makes
 * the next build probe the CLI again, where a stale cache would skip the
 * probe (and, on a 23+ CLI, hand docker's raw "buildx component is missing"
 * to the user instead of secbuild's refusal). The docker stand-in answers the
 * same whatever the plugin; these tests check only whether secbuild asks it
 * (argv only). The real 28.x CLI and plugin are in test/e2e/engine-cache.test.ts.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

describe('engine cache and cliPluginsExtraDirs (argv only)', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');

  test('a docker-buildx added to or removed from a cliPluginsExtraDirs directory makes the next build probe docker again (argv only)', async () => {
    const dockerConfig = join(box.dir, 'docker-config');
    const extra = join(box.dir, 'extra-plugins');
    mkdirSync(extra, { recursive: true });
    mkdirSync(dockerConfig, { recursive: true });
    writeFileSync(join(dockerConfig, 'config.json'), JSON.stringify({ cliPluginsExtraDirs: [extra] }));
    const { env, calls } = fake.record({ DOCKER_CONFIG: dockerConfig, E2E_TOK: 'engine-cache-cli-value' });
    const probes = () => calls().filter((c) => /^version( |$)/.test(c)).length;
    const build = async (): Promise<number> => {
      const r = await runCli(['-q', '--secret', 'id=tok,from=env:E2E_TOK', ctx.dir], { env });
      expect(r.code, r.stderr).toBe(0);
      return probes();
    };
    const first = await build();
    expect(first).toBeGreaterThan(0);
    expect(await build()).toBe(first); // unchanged inputs: the cache answers, docker is not asked
    writeFileSync(join(extra, 'docker-buildx'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const added = await build();
    expect(added).toBeGreaterThan(first);
    rmSync(join(extra, 'docker-buildx'));
    expect(await build()).toBeGreaterThan(added);
  });
});
