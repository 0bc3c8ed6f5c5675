/**
 * The report's own faults (faults issue, item 5): a --report path that cannot
 * be written is a usage error before anything runs; a write that fails at the
 * end is a warning and never replaces the run's outcome. Docker is the
 * stand-in (argv and files only).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { listDir, nonce, runCli } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

describe('--report faults (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
  const flags = ['--secret', 'id=tok,from=env:TOK'];

  test('a report in a directory that does not exist: exit 2 before docker runs, one sentence naming it', async () => {
    const { env, runs } = fake.record({ TOK: `tok-${nonce()}` });
    const r = await runCli([...flags, '--report', join(box.dir, 'no-such-dir', 'r.json'), ctx.dir], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^secbuild: --report .*no-such-dir.* cannot be written \(ENOENT\); give a path in a writable directory\.\n$/);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a report that cannot be written at the end (the path is a directory): a warning, the build still exits 0', async () => {
    const { env, runs } = fake.record({ TOK: `tok-${nonce()}` });
    const target = join(box.dir, `report-dir-${nonce()}`);
    mkdirSync(target);
    const r = await runCli([...flags, '--report', target, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: --report .* could not be written \(EISDIR\); the run's outcome is unchanged\./);
    expect(runs().length).toBe(1);
  });
});
