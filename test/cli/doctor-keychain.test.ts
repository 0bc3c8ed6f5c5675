/**
 * `doctor`'s keychain line comes from a real round trip (issue 11 item 4):
 * without a D-Bus session no backend can store an item, so doctor must not
 * say "ok" (it used to say "keytar loaded"). With a Secret Service the e2e
 * tier (test/e2e/keychain.test.ts) sees "ok" through keytar and secret-tool.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { noDockerEnv, runCli, sandbox } from '../helpers/cli.js';

describe('doctor keychain without a Secret Service', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  test.each(['auto', 'keytar', 'cli'])('backend %s: the keychain line is a warning that names the failure, never ok', async (backend) => {
    const env: NodeJS.ProcessEnv = { ...noDockerEnv(box), DBUS_SESSION_BUS_ADDRESS: undefined, ...(backend === 'auto' ? {} : { SECBUILD_KEYCHAIN_BACKEND: backend }) };
    delete env.DBUS_SESSION_BUS_ADDRESS;
    const r = await runCli(['doctor'], { env });
    const line = r.stdout.split('\n').find((l) => /^\S+\s+keychain:/.test(l));
    expect(line, r.stdout).toMatch(/^warn  keychain: /);
    expect(line).not.toContain('keytar loaded');
    expect(line).toMatch(/keychain: references will fail/);
  });
});
