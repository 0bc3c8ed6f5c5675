/**
 * Progress on long work (issue 11 item 6): a provider that takes more than a
 * second gets one "resolving secret X (cmd:…)…" line; a fast one gets none.
 * Through `secbuild secrets`, which resolves without docker.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { noDockerEnv, runCli, sandbox } from '../helpers/cli.js';

describe('resolution says what it waits for', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  test('a cmd: provider slower than a second: one "resolving secret …" line naming it', async () => {
    const r = await runCli(['secrets', '--secret', 'id=slow,from=cmd:sh -c "sleep 1.6; echo slow-value"'], { env: noDockerEnv(box) });
    expect(r.code, r.stderr).toBe(0);
    // Printed before the value is known to the output filter: the program's name only, never the rest of the line.
    expect(r.stderr).toMatch(/^secbuild: resolving secret slow \(cmd: sh …\)…$/m);
    expect(r.stderr).not.toContain('slow-value');
    expect(r.stderr.match(/resolving secret/g)).toHaveLength(1);
  });

  test('a fast provider: no such line', async () => {
    const r = await runCli(['secrets', '--secret', 'id=fast,from=cmd:echo fast-value'], { env: noDockerEnv(box) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/resolving secret/);
  });
});
