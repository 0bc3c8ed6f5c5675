/**
 * The build-arg guard through the built CLI: a --build-arg that carries a
 * secret's value, from any provider kind, is refused with exit 4 before docker
 * runs; --allow-secret-build-arg lets one through loudly; credential-like
 * names warn, and so does provenance mode=max for them. No secret byte may
 * appear in anything captured here.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { context, expectNoSecret, listDir, nonce, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

const TOKEN = `tok-${nonce()}-Zq9`;

describe('build-arg guard (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const tokfile = join(box.dir, 'tokfile');
  writeFileSync(tokfile, TOKEN);
  const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
  const ctxS = context('FROM $BASE\nRUN --mount=type=secret,id=s true\n');
  const tok = ['--secret', 'id=tok,from=env:E2E_TOKEN'];
  afterAll(() => {
    ctxS.cleanup();
    ctx.cleanup();
    box.cleanup();
  });

  test.each([
    ['env', 'id=s,from=env:E2E_TOKEN'],
    ['file', `id=s,from=file:${tokfile}`],
    ['cmd', `id=s,from=cmd:cat ${tokfile}`],
    ['docker src=', `id=s,src=${tokfile}`],
  ])('a --build-arg carrying a secret from %s is refused with exit 4, docker not run', async (_kind, spec) => {
    const { env, runs } = fake.record({ E2E_TOKEN: TOKEN });
    const r = await runCli(['--secret', spec, '--build-arg', `NPM_AUTH=Bearer ${TOKEN}`, ctxS.dir], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/--build-arg NPM_AUTH carries secret "s" .*Mount it instead: --secret id=s,.*RUN --mount=type=secret,id=s.*--allow-secret-build-arg NPM_AUTH/);
    expectNoSecret(r.stdout + r.stderr, [TOKEN]);
    expect(runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a bare --build-arg NAME reading a secret\'s variable is refused; --allow-secret-build-arg lets it through loudly', async () => {
    const { env } = fake.record({ E2E_TOKEN: TOKEN });
    const refused = await runCli([...tok, '--dry-run', '--build-arg', 'E2E_TOKEN', ctx.dir], { env });
    expect(refused.code).toBe(4);
    const allowed = await runCli([...tok, '--dry-run', '--build-arg', 'E2E_TOKEN', '--allow-secret-build-arg', 'E2E_TOKEN', ctx.dir], { env });
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/warning: --build-arg E2E_TOKEN carries secret "tok" and is let through/);
    expectNoSecret(refused.stdout + refused.stderr + allowed.stdout + allowed.stderr, [TOKEN]);
  });

  test('credential-like build-arg names warn, and provenance mode=max warns for them', async () => {
    const { env } = fake.record({ E2E_TOKEN: TOKEN });
    const r = await runCli([...tok, '--dry-run', '--build-arg', 'GITHUB_TOKEN=unknown-to-secbuild', '--provenance', 'mode=max', ctx.dir], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: --build-arg GITHUB_TOKEN looks like a credential/);
    expect(r.stderr).toMatch(/provenance mode=max records build-arg values in the attestation, including --build-arg GITHUB_TOKEN/);
  });
});
