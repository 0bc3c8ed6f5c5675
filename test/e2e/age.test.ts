/**
 * `age:` end to end with Debian's age 1.1 and a throw-away key: a build
 * mounts a decrypted file, the identity given by identity=env:… (the
 * variable then reaches no child), the value masked in the log.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { context, listDir, nonce, runCli, sandbox } from '../helpers/cli.js';
import { onPath } from '../helpers/ci.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describeE2E('age: store (real age)', () => (onPath('age') ? undefined : 'the age CLI is not installed (apt-get install age)'), () => {
  const box = sandbox('secbuild-stores2-');
  const value = `age-${nonce()}-välue`;
  const ctx = context('FROM $BASE\nARG N\nRUN --mount=type=secret,id=tok echo $N >/dev/null && sha256sum /run/secrets/tok > /h && cat /run/secrets/tok\n');
  const tag = `secbuild-stores2-age:${nonce()}`;
  let keys: string;
  let identity: string;
  beforeAll(() => {
    keys = mkdtempSync(join(tmpdir(), 'secbuild-stores2-age-'));
    execFileSync('age-keygen', ['-o', join(keys, 'key.txt')], { stdio: 'ignore' });
    identity = readFileSync(join(keys, 'key.txt'), 'utf8');
    const recipient = execFileSync('age-keygen', ['-y', join(keys, 'key.txt')]).toString().trim();
    execFileSync('age', ['-r', recipient, '-o', join(keys, 'tok.age')], { input: value });
  });
  afterAll(async () => {
    rmSync(keys, { recursive: true, force: true });
    await docker(['rmi', '-f', tag]);
    ctx.cleanup();
    box.cleanup();
  });

  test('a build mounts the decrypted file: its hash in the image, masked in the log, nothing left', async () => {
    const env = baseEnv(box, { AGE_IDENTITY: identity });
    const spec = `id=tok,from=age:${join(keys, 'tok.age')},identity=env:AGE_IDENTITY`;
    const r = await runCli(['--secret', spec, '--progress=plain', '--build-arg', `N=${nonce()}`, '-t', tag, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(r.stdout + r.stderr).not.toContain('AGE-SECRET-KEY');
    expect(r.stderr).toContain('***');
    expect(listDir(box.tmp)).toEqual([]);
    const out = (await docker(['run', '--rm', tag, 'cat', '/h'])).stdout.toString();
    expect(out.split(/\s+/)[0]).toBe(sha(value));
  });

  test('secbuild exec with the identity: the command gets the value, not AGE_IDENTITY', async () => {
    const env = baseEnv(box, { AGE_IDENTITY: identity });
    const r = await runCli(['exec', '--secret', `id=tok,from=age:${join(keys, 'tok.age')},identity=env:AGE_IDENTITY`, '--', 'sh', '-c', 'sha256sum < "$SECBUILD_SECRETS/tok"; printf "[%s]" "${AGE_IDENTITY-unset}"'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split(/\s+/)[0]).toBe(sha(value));
    expect(r.stdout + r.stderr).not.toContain('AGE-SECRET-KEY');
    expect(r.stdout).toContain('[unset]');
  });
});
