/**
 * `secbuild compose -f examples/compose/compose.yaml build` from the repo root
 * (issue 11 item 7): the project's secbuild.yml sits next to the compose file
 * but is not read from another directory, and the error says so, as build's
 * does for a context. The docker stand-in is found but never runs a build
 * (argv and files only).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { ROOT, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('compose from another directory (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  afterAll(() => box.cleanup());

  test('names the secbuild.yml next to the compose file that was not read, exit 2 (argv and files only)', async () => {
    const { env, runs } = fake.record();
    const r = await runCli(['compose', '-f', 'examples/compose/compose.yaml', 'build', '--dry-run'], { env, cwd: ROOT });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/which neither secbuild/);
    expect(r.stderr).toContain(`${ROOT}examples/compose/secbuild.yml sits next to the compose file but was not read (secbuild reads ./secbuild.yml of the working directory); run from that directory or pass --config ${ROOT}examples/compose/secbuild.yml.`);
    expect(runs()).toEqual([]);
  });
});
