/**
 * The messages a newcomer meets (issue 24): each names the input and the fix,
 * and says nothing wrong. Builds run against the docker stand-in (argv and
 * files only) or stop before any docker runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { context, listDir, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

const DOCKERFILE = 'FROM $BASE\nRUN --mount=type=secret,id=api_token wc -c < /run/secrets/api_token\n';

describe('no daemon reachable (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const ctx = context(DOCKERFILE);
  afterAll(() => {
    ctx.cleanup();
    box.cleanup();
  });
  const noDaemon = join(box.dir, 'no-daemon.sock');
  const marker = join(box.dir, 'provider-ran');

  test.each<[string, string[]]>([
    ['build', ['-t', 'secbuild-messages-x', ctx.dir]],
    ['verify', ['verify', 'secbuild-messages-x']],
  ])('%s: exit 2 with one line naming DOCKER_HOST, before any provider runs', async (_, words) => {
    const { env, runs } = fake.record({ DOCKER_HOST: `unix://${noDaemon}` });
    const r = await runCli([...words.slice(0, words[0] === 'verify' ? 1 : 0), '--secret', `id=api_token,from=cmd:touch ${marker}`, ...words.slice(words[0] === 'verify' ? 1 : 0)], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(`secbuild: no Docker daemon answers at unix://${noDaemon} (DOCKER_HOST): there is no socket at ${noDaemon}. Start the daemon (sudo systemctl start docker), or point DOCKER_HOST or DOCKER_CONTEXT at a running one; no secret was resolved.\n`);
    expect(existsSync(marker)).toBe(false);
    expect(runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--dry-run needs no daemon', async () => {
    const { env } = fake.record({ DOCKER_HOST: `unix://${noDaemon}`, TOK: 'abcdefgh' });
    const r = await runCli(['--dry-run', '--secret', 'id=api_token,from=env:TOK', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
  });
});
