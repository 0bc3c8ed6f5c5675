/**
 * SECBUILD_DEBUG=1 prints errors in more detail, never what they carry: a
 * failed `cmd:` provider's error holds the command's stdout (the value it
 * printed before failing), and the debug path printed the whole error object
 * with console.error — the value as `<Buffer 68 75 …>`, past any masking.
 * No docker is started (secbuild secrets).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { noDockerEnv, runCli, sandbox } from '../helpers/cli.js';

const VALUE = 'dbg-Secr3tValue-7Q';
const box = sandbox();
afterAll(() => box.cleanup());
const file = join(box.dir, 'value');
writeFileSync(file, VALUE);

const hexBytes = (s: string) => [...Buffer.from(s)].map((b) => b.toString(16).padStart(2, '0')).join(' ');

test.each([
  ['a cmd: that prints its value then fails', `cmd:sh -c 'cat ${file}; exit 3'`],
  ['a cmd: that prints its value and something on stderr then fails', `cmd:sh -c 'cat ${file}; echo failed >&2; exit 3'`],
])('SECBUILD_DEBUG=1 with %s: the value is not printed in any form', async (_what, ref) => {
  const r = await runCli(['secrets', '--secret', `id=a,from=${ref}`], { env: noDockerEnv(box, { CI: 'true', SECBUILD_DEBUG: '1' }) });
  const out = r.stdout + r.stderr;
  expect(out).toMatch(/exited with code 3/);
  expect(out).not.toContain(VALUE);
  expect(out).not.toContain(hexBytes(VALUE).slice(0, 20));
  expect(out).not.toContain(Buffer.from(VALUE).toString('base64').slice(0, 12));
});
