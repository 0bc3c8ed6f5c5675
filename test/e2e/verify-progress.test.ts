/**
 * verify says how far it is (issue 11 item 6): off a terminal a plain
 * "verify: N MB of layer data searched, K layers done" line every few seconds
 * (SECBUILD_PROGRESS_MS shortens the interval here), on a terminal (script(1)'s
 * pseudo-terminal) the same text redrawn in place and cleared at the end.
 * The image searched is the tier's base image; the secret is not in it.
 */
import { afterAll, expect, test } from 'vitest';
import { BASE, CLI, runCli, sandbox, sh } from '../helpers/cli.js';
import { baseEnv, describeE2E } from '../helpers/e2e.js';

describeE2E('verify progress', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());
  const env = baseEnv(box, { V_TOK: 'progress-secret-value-1234', SECBUILD_PROGRESS_MS: '1' });

  test('off a terminal: plain progress lines, then the summary', async () => {
    const r = await runCli(['verify', '--secret', 'id=tok,from=env:V_TOK', BASE], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^secbuild: verify: \d+\.\d MB of layer data searched, \d+ layers? done \(\d+ s\)$/m);
    expect(r.stderr).not.toContain('\r');
  });

  test('on a terminal: one line redrawn in place and cleared', async () => {
    const cmd = [process.execPath, CLI, 'verify', '--secret', 'id=tok,from=env:V_TOK', BASE].map((a) => `'${a}'`).join(' ');
    const r = await sh('script', ['-qec', cmd, '/dev/null'], { env });
    const out = r.stdout.toString();
    expect(r.code, out).toBe(0);
    expect(out).toMatch(/\r\x1b\[2Ksecbuild: verify: \d+\.\d MB of layer data searched, \d+ layers? done/);
    expect(out).toMatch(/\r\x1b\[2K(\r?\n)?.*clean;/);
  });
});
