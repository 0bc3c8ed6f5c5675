/**
 * A build prints `secbuild check`'s warning-level findings about its
 * Dockerfile, one line each (issue 11 item 8): a mounted secret copied into
 * a layer, a credential-looking ARG. From the cache too (the second run
 * loads no parser). docker is the stand-in, run with --dry-run (argv and
 * files only).
 */
import { describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

describe("build shows check's warnings (argv and files only)", () => {
  const { fake, ctx } = fakeDockerSuite('FROM $BASE\nARG NPM_TOKEN\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /kept\n');

  test.each(['first run', 'cached run'])('%s: one warning line per finding, with file:line (argv and files only)', async () => {
    const { env } = fake.record({ E2E_TOKEN: 'warning-test-value' });
    const r = await runCli(['--dry-run', '--secret', 'id=tok,from=env:E2E_TOKEN', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('secbuild: warning: '));
    expect(lines.filter((l) => /Dockerfile:2: .*NPM_TOKEN/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /Dockerfile:3: .*tok/.test(l))).toHaveLength(1);
  });
});
