/**
 * `secbuild verify IMAGE` with no secret at all decides "nothing to search"
 * before it asks docker anything (issue 24: it used to start `docker save`
 * first, then wait forever for the save nobody read). The docker stand-in
 * only records each call's argv (argv only); that a real run ends promptly
 * is test/e2e/verify-nothing.test.ts.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { listDir, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('verify with nothing to search for (argv only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  afterAll(() => box.cleanup());

  test('no secret: exit 2 with one line, and docker is never called, docker save least of all (recorded argv only)', async () => {
    const rec = fake.record();
    const r = await runCli(['verify', 'some/image:tag'], { env: rec.env, cwd: box.dir });
    expect(rec.calls()).toEqual([]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe("secbuild: verify searched nothing: there is no secret of 4 bytes or more to search for; give the build's secrets with --secret, --netrc, --npmrc or a secbuild.yml.\n");
    expect(r.stdout).toBe('');
    expect(listDir(box.tmp)).toEqual([]);
  });
});
