/**
 * `secbuild verify` when docker cannot reach its daemon at the moment it
 * looks the image up — an endpoint secbuild's own check leaves to docker
 * (ssh://): the real docker client's error, named as the daemon's, not "the
 * image is not in the local image store".
 */
import { afterAll, describe, expect, test } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, e2e } from '../helpers/e2e.js';

describe.skipIf(e2e.skip)('verify with no daemon docker can reach', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  test('ssh:// to nowhere: exit 2, the daemon named, not "not in the local image store"', async () => {
    const env = baseEnv(box, { DOCKER_HOST: 'ssh://nobody@127.0.0.1:1', TOK: 'abcdefgh' });
    const r = await runCli(['verify', '--secret', 'id=tok,from=env:TOK', 'secbuild-test/busybox:local'], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toMatch(/local image store/);
    expect(r.stderr).toMatch(/^secbuild: \S*docker could not reach the Docker daemon \(ssh:\/\/nobody@127\.0\.0\.1:1, DOCKER_HOST\) to look up secbuild-test\/busybox:local: error during connect: .*; start it or point DOCKER_HOST or DOCKER_CONTEXT at a running one\.$/m);
  });
});
