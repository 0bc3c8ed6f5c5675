/**
 * The projects under examples/ work as their READMEs say: hello builds for real
 * and prints only the secret's length. The credential-file examples' --dry-run
 * is daemon-free: test/cli/examples.test.ts. (examples/compose: compose.test.ts;
 * examples/run-secrets: run-secrets.test.ts.)
 */
import { afterAll, expect, test } from 'vitest';
import { BASE, listDir, nonce, ROOT, runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

const TAG = 'secbuild-e2e/examples:hello';

describeE2E('examples', () => {
  const box = sandbox();
  afterAll(async () => {
    await docker(['rmi', '-f', TAG]);
    box.cleanup();
  });

  test('hello: builds, prints the greeting\'s byte length and never its value, leaves the secret root empty', async () => {
    const value = `hello-${nonce()}`;
    const r = await runCli(
      ['--secret', 'id=greeting,from=env:HELLO_TOKEN', '--build-arg', `BASE=${BASE}`, '--progress=plain', '--no-cache', '-t', TAG, 'examples/hello'],
      { env: baseEnv(box, { HELLO_TOKEN: value }), cwd: ROOT },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`greeting is ${Buffer.byteLength(value)} bytes`);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(listDir(box.tmp)).toEqual([]);
  });
});
