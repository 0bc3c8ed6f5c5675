/**
 * The keychain provider against a real Secret Service (gnome-keyring under
 * dbus-run-session, as .ci/run starts it): an item stored with the platform's
 * own `secret-tool` (in beforeAll) is read through keytar and through the CLI
 * fallback, and `secbuild secret set|rm` manage items that `secret-tool` then
 * sees.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { context, listDir, nonce, runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker, e2e } from '../helpers/e2e.js';
import { secretServiceProblem, secretTool } from '../helpers/keyring.js';

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const keyring = secretServiceProblem();

/** Why keytar cannot load here (it is optional: npm ci skips it without libsecret-1-dev), or undefined. */
function keytarProblem(): string | undefined {
  try {
    createRequire(import.meta.url)('keytar');
    return undefined;
  } catch (err) {
    return `keytar is not installed or does not load (${(err as Error).message.split('\n')[0]}); npm ci builds it when libsecret-1-dev is present (.ci/provision.sh installs it)`;
  }
}
const noKeytar = keytarProblem();
if (!e2e.skip && !keyring && noKeytar) process.stdout.write(`[e2e] keychain tests through keytar SKIPPED: ${noKeytar}\n`);
/** The backends to test: secret-tool always, keytar where it loads (with CI=true too: it is an optional dependency). */
const BACKENDS = noKeytar ? ['cli'] : ['keytar', 'cli'];

describeE2E('keychain (real Secret Service)', () => keyring, () => {
  const box = sandbox();
  const service = `secbuild-e2e-${nonce()}`;
  const value = `kc-${nonce()}-välue`;
  const ctx = context('FROM $BASE\nARG N\nRUN --mount=type=secret,id=kc echo $N >/dev/null && sha256sum /run/secrets/kc > /h\n');
  const tags: string[] = [];
  beforeAll(async () => {
    const stored = await secretTool.store(service, 'ci', value);
    expect(stored.code, `secret-tool store failed: ${stored.stderr}`).toBe(0);
  });
  afterAll(async () => {
    await secretTool.clear(service, 'ci');
    await secretTool.clear(service, 'set');
    if (tags.length) await docker(['rmi', '-f', ...tags]);
    ctx.cleanup();
    box.cleanup();
  });

  test.each(BACKENDS)('a build reads it through %s', async (backend) => {
    const env = baseEnv(box, { SECBUILD_KEYCHAIN_BACKEND: backend });
    const doctor = await runCli(['doctor'], { env });
    // doctor's keychain line is a real round trip through the backend a build uses.
    expect(doctor.stdout).toContain(`ok    keychain: ${backend === 'keytar' ? 'keytar' : 'secret-tool'}: stored, read back and deleted a probe item`);
    const tag = `secbuild-e2e/keychain:${backend}`;
    tags.push(tag);
    const r = await runCli(['--secret', `id=kc,from=keychain:${service}/ci`, '--build-arg', `N=${nonce()}`, '-t', tag, ctx.dir], { env });
    expect(r.stderr).not.toContain(value);
    expect(r.code).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
    const out = (await docker(['run', '--rm', tag, 'cat', '/h'])).stdout.toString();
    expect(out.split(/\s+/)[0]).toBe(sha(value));
  });

  test('a --build-arg carrying a keychain secret is refused with exit 4', async () => {
    const env = baseEnv(box, { LEAKY: `x${value}x` });
    const r = await runCli(['--dry-run', '--secret', `id=kc,from=keychain:${service}/ci`, '--build-arg', 'LEAKY', ctx.dir], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/--build-arg LEAKY carries secret "kc" \(keychain:/);
    expect(r.stdout + r.stderr).not.toContain(value);
  });

  test.each(BACKENDS)('a missing item is a clear exit-3 error through %s', async (backend) => {
    const env = baseEnv(box, { SECBUILD_KEYCHAIN_BACKEND: backend });
    const r = await runCli(['secrets', '--secret', `id=kc,from=keychain:${service}/nobody`], { env });
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/no keychain item with service ".*" and account "nobody"/);
  });

  test.each(BACKENDS)('secret set and rm through %s are seen by secret-tool', async (backend) => {
    const env = baseEnv(box, { SECBUILD_KEYCHAIN_BACKEND: backend });
    const v = `set-${backend}-${nonce()}`;
    const set = await runCli(['secret', 'set', `${service}/set`], { env, input: v });
    expect(set.stderr).not.toContain(v);
    expect(set.code).toBe(0);
    const look = await secretTool.lookup(service, 'set');
    expect(look.stdout.toString()).toBe(v);
    const listed = await runCli(['secrets', '--secret', `id=x,from=keychain:${service}/set`], { env });
    expect(listed.stdout).toMatch(new RegExp(`x\\s+keychain:${service}/set\\s+ok\\s+${v.length}`));
    const rm = await runCli(['secret', 'rm', `${service}/set`], { env });
    expect(rm.code).toBe(0);
    const gone = await secretTool.lookup(service, 'set');
    expect(gone.stdout.length).toBe(0);
  });
});
