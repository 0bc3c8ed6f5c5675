/**
 * `secbuild exec` with the real tools on the host against the real servers
 * of test/helpers/servers.ts (Verdaccio with token auth, git smart-HTTP and
 * a PEP 503 index behind nginx basic auth over HTTPS):
 *
 * - `--npmrc … -- npm ci` installs the private package (NPM_CONFIG_USERCONFIG
 *   wins over the npm_config_userconfig `npm run` sets); without the token
 *   Verdaccio answers 401;
 * - `--netrc … -- git clone` clones through the credential helper exec gives
 *   git (git does not read $NETRC); without it git cannot authenticate;
 * - a secbuild.yml `template:` with `env: PIP_CONFIG_FILE` → `pip install
 *   --no-input` installs from the private index; without it pip gets a 401.
 *
 * Each run leaves the secret root empty. The processes, signals and masking
 * with plain commands are in test/cli/exec.test.ts.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, inject, test } from 'vitest';
import { listDir, nonce, ROOT, runCli, sandbox, sh } from '../helpers/cli.js';
import { baseEnv, describeE2E, expectLogged, logSince } from '../helpers/e2e.js';
import { cleanEnv } from '../helpers/servers.js';

const servers = inject('servers');

describeE2E('secbuild exec with real tools against real servers', () => servers.skip, () => {
  const s = servers.info!;
  // Not `secbuild-e2e-*`: another e2e run's teardown sweeps those.
  const box = sandbox('secbuild-exec-');
  afterAll(() => box.cleanup());
  const ca = join(s.dir, 'nginx', 'tls', 'ca.crt');
  const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
  /** The caller's environment without its npm/pip/git settings, HOME a fresh directory, the sandbox's secret root. */
  const toolEnv = (extra: NodeJS.ProcessEnv) => {
    const home = join(box.dir, `home-${nonce()}`);
    mkdirSync(home);
    return baseEnv(box, { ...cleanEnv({ HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', NO_UPDATE_NOTIFIER: '1' }), SECBUILD_TMPDIR: box.tmp, XDG_CACHE_HOME: box.cache, ...extra });
  };

  test('npm ci: the private package installs through --npmrc; without the token Verdaccio answers 401', async () => {
    const project = join(box.dir, `npm-${nonce()}`);
    mkdirSync(project);
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, 'examples', 'npm-private', f), join(project, f));
    const bare = join(box.dir, `bare-${nonce()}.npmrc`);
    writeFileSync(bare, `@acme:registry=${s.npm.registry}\n`);
    // As inside `npm run`: npm_config_userconfig names another file, and exec's must win.
    const env = toolEnv({ TOK: s.npm.token, npm_config_userconfig: bare, NPM_CONFIG_CACHE: join(box.dir, 'npm-cache') });
    const npmrc = `registry=${s.npm.registry},token=env:TOK,scope=@acme`;
    const at = size(s.npm.log);
    const r = await runCli(['exec', '--npmrc', npmrc, '--', 'npm', 'ci', '--no-audit', '--no-fund'], { env, cwd: project });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/added 1 package/);
    expect(r.stdout + r.stderr).not.toContain(s.npm.token);
    expect(JSON.parse(readFileSync(join(project, 'node_modules', '@acme', 'greeter', 'package.json'), 'utf8'))).toMatchObject({ name: '@acme/greeter', version: '1.2.0' });
    expect(listDir(box.tmp)).toEqual([]);
    await expectLogged(s.npm.log, at, /200, user: e2e\w+\(127\.0\.0\.1\), req: 'GET \/@acme\/greeter\/-\/greeter-1\.2\.0\.tgz'/);

    const before = size(s.npm.log);
    const without = await sh('npm', ['ci', '--no-audit', '--no-fund', '--prefix', project], { env: { ...env, NPM_CONFIG_USERCONFIG: bare } });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/E401/);
    await expectLogged(s.npm.log, before, /401, user: null\(127\.0\.0\.1\), req: 'GET \/@acme%2fgreeter', error: authorization required/);
  });

  test('git clone: --netrc reaches git through its credential helper; without it git cannot authenticate', async () => {
    const url = `https://127.0.0.1:${s.https.port}${s.git.path}`;
    const env = toolEnv({ GH: s.https.password, GIT_SSL_CAINFO: ca, GIT_CONFIG_GLOBAL: '/dev/null' });
    const dest = join(box.dir, `clone-${nonce()}`);
    const at = size(s.https.accessLog);
    const r = await runCli(['exec', '--netrc', `machine=127.0.0.1,login=${s.https.user},password=env:GH`, '--', 'git', 'clone', '-q', url, dest], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dest, 'README'), 'utf8')).toBe(s.git.readme);
    expect(logSince(s.https.accessLog, at)).toMatch(/^x-access-token "GET \/acme\/private-repo\.git\/info\/refs\?service=git-upload-pack [^"]*" 200$/m);
    // git-credential's `store` after a success goes to the helper, which keeps nothing.
    expect(existsSync(join(env.HOME!, '.git-credentials'))).toBe(false);
    expect(listDir(box.tmp)).toEqual([]);

    const without = await sh('git', ['clone', '-q', url, `${dest}-bare`], { env });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('could not read Username');
  });

  test('pip install: a template secret with env: PIP_CONFIG_FILE; without it pip gets a 401', async () => {
    const dir = join(box.dir, `pip-${nonce()}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'pip.conf.tmpl'), `[global]\nindex-url = https://\${pip_user|url}:\${pip_password|url}@127.0.0.1:${s.https.port}/simple/\n`);
    writeFileSync(join(dir, 'secbuild.yml'), [
      'secrets:',
      '  pip_user: { from: env:PYPI_INDEX_USER }',
      '  pip_password: { from: env:PYPI_INDEX_PASSWORD }',
      '  pip_conf: { template: ./pip.conf.tmpl, env: PIP_CONFIG_FILE }',
      '',
    ].join('\n'));
    const env = toolEnv({ PYPI_INDEX_USER: s.pip.user, PYPI_INDEX_PASSWORD: s.pip.password, REQUESTS_CA_BUNDLE: ca });
    const pip = ['/usr/bin/python3', '-m', 'pip', 'install', '--no-input', '--no-deps', '--no-cache-dir', '--disable-pip-version-check', '--retries', '0', '--target'];
    const at = size(s.https.accessLog);
    const r = await runCli(['exec', '--', ...pip, join(dir, 'site'), `${s.pip.package}==${s.pip.version}`], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Successfully installed ${s.pip.package}-${s.pip.version}`);
    expect(existsSync(join(dir, 'site', 'acme_internal_utils', '__init__.py'))).toBe(true);
    expect(logSince(s.https.accessLog, at)).toMatch(/^ci-bot "GET \/packages\/acme_internal_utils-2\.3\.0-py3-none-any\.whl [^"]*" 200$/m);
    expect(r.stdout + r.stderr).not.toContain(s.pip.password);
    expect(listDir(box.tmp)).toEqual([]);

    const before = size(s.https.accessLog);
    const without = await sh(pip[0]!, [...pip.slice(1), join(dir, 'site2'), '--index-url', `https://127.0.0.1:${s.https.port}/simple/`, s.pip.package], { env: { ...env, PIP_CONFIG_FILE: '/dev/null' } });
    expect(without.code).not.toBe(0);
    expect(logSince(s.https.accessLog, before)).toMatch(/^- "GET \/simple\/acme-internal-utils\/ [^"]*" 401$/m);
  });
});
