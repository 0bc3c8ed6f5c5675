/**
 * `doctor`'s secret-store lines warn only about a store the user set up: its
 * variables or files are there, or ./secbuild.yml references its scheme. A
 * store nobody uses gets an informational `--` line with its install or
 * setup hint, never `warn` (a newcomer saw a 1Password warning on a machine
 * without 1Password). The e2e tier keeps the warnings of a half-set-up store
 * (test/e2e/vault.test.ts "VAULT_ADDR is set, but no token", test/e2e/stores.test.ts
 * "found, but no store at").
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { noDockerEnv, runCli, sandbox, tree } from '../helpers/cli.js';

const STORES = ['vault', '1password', 'pass', 'aws', 'age'];
const storeLine = (out: string, store: string): string | undefined => out.split('\n').find((l) => new RegExp(`^\\S+ +${store}: `).test(l));

describe('doctor store lines', () => {
  const box = sandbox();
  const home = join(box.dir, 'home');
  const emptyPath = join(box.dir, 'empty-path');
  mkdirSync(home);
  mkdirSync(emptyPath);
  afterAll(() => box.cleanup());

  /** No store's variables, an empty HOME; `path` is PATH (an empty directory: no store's CLI at all). */
  const bareEnv = (path: string | undefined, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    const env = noDockerEnv(box, { HOME: home, XDG_CONFIG_HOME: join(home, '.config') });
    for (const k of Object.keys(env)) if (/^(VAULT_|OP_|AWS_|PASSWORD_STORE_)/.test(k)) delete env[k];
    if (path !== undefined) env.PATH = path;
    return { ...env, ...extra };
  };

  test.each([
    ['an empty PATH', emptyPath],
    ["the machine's PATH", undefined],
  ])('with no store set up and %s, no store line is a warning; the unused ones are "--  …: not set up"', async (_, path) => {
    const cwd = tree({}).dir;
    // AWS_CA_BUNDLE is set by proxies and other tools' setups: not a sign of using AWS.
    const r = await runCli(['doctor'], { env: bareEnv(path, { AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' }), cwd });
    for (const store of STORES) {
      const line = storeLine(r.stdout, store);
      expect(line, r.stdout).toBeDefined();
      expect(line, r.stdout).not.toMatch(/^warn/);
      expect(line).toMatch(new RegExp(`^(ok    ${store}: |--    ${store}: not set up \\(.+\\)$)`));
    }
    expect(storeLine(r.stdout, 'vault')).toMatch(/^--    vault: not set up \(vault: references need VAULT_ADDR/);
    if (path === emptyPath) {
      expect(storeLine(r.stdout, '1password')).toMatch(/^--    1password: not set up \(op: references need the op CLI: install 1Password's CLI from https:/);
      for (const store of STORES) expect(storeLine(r.stdout, store)).toMatch(/^-- /);
    }
  });

  test('secbuild.yml references op: and op is missing: a warning', async () => {
    const cwd = tree({ 'secbuild.yml': 'secrets:\n  tok: { from: "op://ci/npm/token" }\n' }).dir;
    const r = await runCli(['doctor'], { env: bareEnv(emptyPath), cwd });
    expect(storeLine(r.stdout, '1password'), r.stdout).toMatch(/^warn  1password: the op command is not installed, so op: references will fail; install /);
    expect(storeLine(r.stdout, 'pass')).toMatch(/^-- /);
  });

  test('secbuild.yml references aws-ssm: only: the one aws line is a warning', async () => {
    const cwd = tree({ 'secbuild.yml': 'secrets:\n  p: { from: "aws-ssm:/ci/npm" }\n' }).dir;
    const r = await runCli(['doctor'], { env: bareEnv(emptyPath), cwd });
    expect(r.stdout.match(/^\S+ +aws:/gm), r.stdout).toHaveLength(1);
    expect(storeLine(r.stdout, 'aws')).toMatch(/^warn  aws: the aws CLI is not installed/);
  });

  test('a store variable alone (OP_ACCOUNT) makes the store used: a warning without op', async () => {
    const r = await runCli(['doctor'], { env: bareEnv(emptyPath, { OP_ACCOUNT: 'acme.1password.com' }), cwd: tree({}).dir });
    expect(storeLine(r.stdout, '1password'), r.stdout).toMatch(/^warn  1password: the op command is not installed/);
  });

  test('vault: role-id= and secret-id= in secbuild.yml are the login, not "no token"; without VAULT_ADDR a warning', async () => {
    const yml = 'secrets:\n  db: { from: "vault:secret/ci/db#password", role-id: "env:ROLE", secret-id: "file:sid" }\n';
    const cwd = tree({ 'secbuild.yml': yml }).dir;
    const set = await runCli(['doctor'], { env: bareEnv(emptyPath, { VAULT_ADDR: 'http://127.0.0.1:9' }), cwd });
    const line = storeLine(set.stdout, 'vault');
    expect(line, set.stdout).toMatch(/^ok    vault: VAULT_ADDR is set, auth by an AppRole login that will use the role-id= and secret-id= references/);
    expect(line).not.toContain('no token');
    const unset = await runCli(['doctor'], { env: bareEnv(emptyPath), cwd });
    expect(storeLine(unset.stdout, 'vault'), unset.stdout).toMatch(/^warn  vault: VAULT_ADDR is not set/);
    // A plain vault: reference beside them still needs a token.
    writeFileSync(join(cwd, 'secbuild.yml'), `${yml}  npm: { from: "vault:secret/ci/npm#token" }\n`);
    const plain = await runCli(['doctor'], { env: bareEnv(emptyPath, { VAULT_ADDR: 'http://127.0.0.1:9' }), cwd });
    expect(storeLine(plain.stdout, 'vault'), plain.stdout).toMatch(/^warn  vault: VAULT_ADDR is set, but no token/);
  });
});
