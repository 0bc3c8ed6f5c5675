/**
 * `secbuild verify IMAGE` with nothing to search for (issue 24): no secret at
 * all, or only values under 4 bytes. It used to start `docker save` early,
 * then return on "nothing to search" and wait for a docker save whose full
 * pipe nobody read: secbuild never ended. Now it exits 2 with one line, and
 * promptly; a timeout far under the old hang makes a regression fail fast.
 * `build --verify` with no secret exits 0 and says why the image was not
 * searched. Each run is checked to leave no `docker save` behind.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { BASE, context, listDir, nonce, pidsMatching, runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

describeE2E('verify with nothing to search for', () => {
  const box = sandbox();
  const id = nonce();
  const tag = `secbuild-fixes-nothing:${id}`;
  // A tag of the local busybox of this file's own, so the docker save looked for is only ours.
  const image = `secbuild-fixes-nothing-base:${id}`;
  beforeAll(async () => {
    expect((await docker(['tag', BASE, image])).code).toBe(0);
  });
  const ctx = context('FROM $BASE\nRUN echo built > /built\n');
  afterAll(async () => {
    await docker(['rmi', '-f', tag, image]);
    ctx.cleanup();
    box.cleanup();
  });

  const oneLine = /^secbuild: verify searched nothing: there is no secret of 4 bytes or more to search for; give the build's secrets with --secret, --netrc, --npmrc or a secbuild\.yml\.$/m;

  test.each([
    ['no secret given', [] as string[], { }],
    ['only a 3-byte secret', ['--secret', 'id=s,from=env:S'], { S: 'abc' }],
  ])('%s: exit 2 with one line, promptly, and no docker save left', async (_name, flags, extra) => {
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      const r = await runCli(['verify', ...flags, image], { env: baseEnv(box, extra), cwd: box.dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(oneLine);
      expect(r.stderr.split('\n').filter((l) => l && !/warning: secret "s" is shorter/.test(l))).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(8000);
    }
    expect(pidsMatching(`save ${image}`)).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  }, 40_000);

  test('build --verify with no secret: exit 0, the line says why the image was not searched', async () => {
    const r = await runCli(['build', '--verify', '-q', '-t', tag, ctx.dir], { env: baseEnv(box), cwd: box.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^secbuild: verify: the image was not searched: the build has no secret of 4 bytes or more \(none given, or all shorter\), so there is nothing that could leak into it to look for\.$/m);
    expect(pidsMatching(`save ${tag}`)).toEqual([]);
  }, 60_000);
});
