/**
 * keytar's own errors are keychain errors (issue 24): with keytar loaded but
 * no D-Bus session (unset, or a socket nobody listens on) and no X11
 * $DISPLAY, `secret set`, `secret rm` and a build's `keychain:` reference
 * exit 3 with one plain line that names the fix — as the secret-tool
 * backend does — never 70 "internal error". Real keytar, real libsecret; no
 * Secret Service is reachable, which is the point. The build's docker is
 * test/helpers/fake-docker.ts, for its version probes only: the keychain
 * error comes before any build (checked: it records no build).
 */
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { onPath, skipUnlessCI } from '../helpers/ci.js';
import { runCli } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

/** keytar is optional: npm builds it only where libsecret's headers and a compiler are. */
function keytarLoads(): boolean {
  try {
    createRequire(import.meta.url)('keytar');
    return true;
  } catch {
    return false;
  }
}
const missing = {
  keytar: skipUnlessCI(!keytarLoads() && 'keytar is not installed (npm ci builds it where libsecret-1-dev is installed)', 'keychain-errors: the keytar cases'),
  cli: skipUnlessCI(!onPath('secret-tool') && 'secret-tool is not on PATH (libsecret-tools)', 'keychain-errors: the secret-tool case'),
};

describe('keychain errors without a reachable Secret Service', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=n true\n');
  const buses = { unset: undefined, 'a dead socket': `unix:path=${box.dir}/no-bus.sock` };
  const fix = /start a Secret Service \(for example gnome-keyring-daemon in a D-Bus session\) and unlock the keyring/;

  const cases = ([
    ['keytar', 'unset'],
    ['keytar', 'a dead socket'],
    ['cli', 'unset'],
  ] as const).filter(([backend]) => !missing[backend]);
  if (cases.length === 0) test.skip('no keychain backend is installed here (the lines above say why)', () => undefined);
  test.each(cases)('backend %s, D-Bus %s: secret set, secret rm and a keychain: reference exit 3 with one line (docker stand-in: no build recorded)', async (backend, bus) => {
    const rec = fake.record();
    const env: NodeJS.ProcessEnv = { ...rec.env, SECBUILD_KEYCHAIN_BACKEND: backend, DBUS_SESSION_BUS_ADDRESS: buses[bus] };
    for (const k of ['DBUS_SESSION_BUS_ADDRESS', 'DISPLAY'] as const) if (env[k] === undefined) delete env[k];
    const runs = [
      await runCli(['secret', 'set', 'npm/ci'], { env, input: 'tok-value-1234\n' }),
      await runCli(['secret', 'rm', 'npm/ci'], { env }),
      await runCli(['--dry-run', '--secret', 'id=n,from=keychain:npm/ci', '-t', 'x', ctx.dir], { env }),
    ];
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(fix);
      if (backend === 'keytar') expect(r.stderr).toMatch(/or set SECBUILD_KEYCHAIN_BACKEND=cli/);
      expect(r.stderr).not.toContain('tok-value-1234');
    }
    expect(rec.runs()).toEqual([]);
  });
});
