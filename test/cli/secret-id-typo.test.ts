/**
 * A mistyped secret id (issue 24): `--secret id=api_tokn` while the
 * Dockerfile mounts `api_token` gave a warning (provided, not mounted) and an
 * error (mounted, not provided) that did not name each other. Both now say
 * "did you mean", through src/args/suggest.ts, in `check` and in the build's
 * preflight (--dry-run). No build is run: both stop in the preflight (the
 * --dry-run's docker is test/helpers/fake-docker.ts, for its probes only).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { context, noDockerEnv, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('a mistyped secret id is linked to the mount it misses', () => {
  const box = sandbox();
  const env = noDockerEnv(box, { T: 'typo-value-1234' });
  const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=api_token cat /run/secrets/api_token\n');
  afterAll(() => {
    ctx.cleanup();
    box.cleanup();
  });
  const error = /RUN mounts secret "api_token" but no secret with that id is provided \(secret "api_tokn" is: did you mean id=api_token\?\); BuildKit would mount nothing and go on\./;

  test('check: the error says "did you mean id=api_token?", the fix says to rename it, and the warning points back', async () => {
    const r = await runCli(['check', '--secret', 'id=api_tokn,from=env:T', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toMatch(error);
    expect(r.stdout).toMatch(/fix: Rename id=api_tokn to id=api_token \(its --secret flag or secbuild\.yml entry\)\./);
    expect(r.stdout).toMatch(/secret "api_tokn" is provided but no RUN in the stages this build reaches mounts it \(a RUN mounts "api_token": a typo\?\)/);
  });

  test('build --dry-run: the preflight error carries the same suggestion (docker stand-in: probes only, no build recorded)', async () => {
    const rec = fakeDocker(box).record({ T: 'typo-value-1234' });
    const r = await runCli(['--dry-run', '--secret', 'id=api_tokn,from=env:T', '-t', 'x', ctx.dir], { env: rec.env });
    expect(rec.runs()).toEqual([]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(error);
    expect(r.stderr).not.toContain('typo-value-1234');
  });

  test('an id far from every provided one gets no suggestion', async () => {
    const r = await runCli(['check', '--secret', 'id=npm,from=env:T', ctx.dir], { env });
    expect(r.stdout).toMatch(/RUN mounts secret "api_token" but no secret with that id is provided; BuildKit/);
    expect(r.stdout).not.toMatch(/did you mean|typo/);
  });
});
