/**
 * faults item 9: `cmd:` providers that get the terminal (they may prompt:
 * `op read`, `gh auth token` asking to log in) run one at a time, so two
 * prompts never interleave. Off a terminal they run in parallel. The
 * terminal is a pseudo-terminal from util-linux script(1); docker is the
 * stand-in and is not run (--dry-run: argv and files only).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CLI, nonce, runCli, sh } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

describe('cmd: providers and the terminal (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=a --mount=type=secret,id=b true\n');

  /** Two providers that each log start and end times to `log` and take 400 ms. */
  function twoSlowProviders(log: string): string[] {
    const script = join(box.dir, `slow-${nonce()}.sh`);
    writeFileSync(script, `#!/bin/sh\necho "start $1 $(date +%s%N)" >> ${log}\nsleep 0.4\necho "end $1 $(date +%s%N)" >> ${log}\nprintf value-$1-1234\n`, { mode: 0o755 });
    return ['--secret', `id=a,from=cmd:${script} a`, '--secret', `id=b,from=cmd:${script} b`];
  }

  function spans(log: string): Array<[number, number]> {
    const at = new Map<string, number[]>();
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      const [what, who, ns] = line.split(' ');
      const t = at.get(who!) ?? [0, 0];
      t[what === 'start' ? 0 : 1] = Number(BigInt(ns!) / 1_000_000n);
      at.set(who!, t);
    }
    return [...at.values()].map(([s, e]) => [s!, e!]);
  }
  const overlap = ([a, b]: Array<[number, number]>) => a![0] < b![1] && b![0] < a![1];

  test('on a terminal they take turns', async () => {
    const log = join(box.dir, `tty-${nonce()}.log`);
    const cmd = [process.execPath, CLI, ...twoSlowProviders(log), '--dry-run', ctx.dir].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
    // A person's terminal: CI=false (in CI a terminal is a log, test/cli/ci-terminal.test.ts).
    const r = await sh('script', ['-qec', cmd, '/dev/null'], { env: fake.record({ CI: 'false' }).env });
    expect(r.code, r.stdout.toString()).toBe(0);
    expect(overlap(spans(log))).toBe(false);
  });

  test("on a terminal a cmd: provider's stderr prompt is shown (issue 11 item 6)", async () => {
    const script = join(box.dir, `prompt-${nonce()}.sh`);
    writeFileSync(script, '#!/bin/sh\necho "Password for demo: " >&2\nprintf prompt-value-1234\n', { mode: 0o755 });
    const cmd = [process.execPath, CLI, '--secret', `id=a,from=cmd:${script}`, '--secret', 'id=b,from=cmd:echo other-value', '--dry-run', ctx.dir].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
    // A person's terminal: CI=false (in CI a terminal is a log, test/cli/ci-terminal.test.ts).
    const r = await sh('script', ['-qec', cmd, '/dev/null'], { env: fake.record({ CI: 'false' }).env });
    expect(r.code, r.stdout.toString()).toBe(0);
    expect(r.stdout.toString()).toContain('Password for demo: ');
  });

  test('off a terminal they run at once', async () => {
    const log = join(box.dir, `pipe-${nonce()}.log`);
    const r = await runCli([...twoSlowProviders(log), '--dry-run', ctx.dir], { env: fake.record().env });
    expect(r.code, r.stderr).toBe(0);
    expect(overlap(spans(log))).toBe(true);
  });
});
