/**
 * The three credential examples, built for real (issue 12) from their own
 * directories with their own secbuild.yml against the real servers of
 * test/helpers/servers.ts (nginx basic auth over HTTPS for git and pip,
 * Verdaccio with token auth for npm), FROM the Debian base with this run's CA:
 *
 * - with the secret, the build succeeds and the private code is in the image;
 * - the same build without the credential, with --no-cache (BuildKit's cache
 *   does not key on secrets), fails and the server answered 401;
 * - `secbuild verify` of the image is clean and `docker history` / `docker
 *   save` hold no credential byte; the secret root is empty after.
 *
 * The commands are the ones the examples' READMEs show. The servers' passwords
 * hold `"`, `#`, `;`, `=`, `%`, `@`, `/`, `+`, `:`, a space (pip) and a
 * non-ASCII letter (git): the server's own auth accepting them proves what
 * test/unit/consumers.test.ts shows against a recording server. What only a
 * real server adds: pip's Latin-1 credentials are refused by an htpasswd
 * written in UTF-8, while curl's UTF-8 ones pass (last test). Builds run
 * one after another (fileParallelism is off; the tests of a file run in order).
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, inject, test } from 'vitest';
import { listDir, nonce, ROOT, runCli, sandbox, sh } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker, DOCKER, expectLogged, logSince } from '../helpers/e2e.js';
import { streamHolds } from '../helpers/image-bytes.js';
import { addHtpasswdUser, cleanEnv } from '../helpers/servers.js';
import { renderTemplate } from '../../src/secrets/render.js';

/**
 * Under a name the e2e teardown's sweep does not take: this file runs for
 * minutes, and on a shared machine another e2e run ending meanwhile sweeps
 * every `secbuild-e2e-*` directory made since it began.
 */
const registriesBox = () => sandbox('secbuild-registries-');

const servers = inject('servers');
const id = nonce();

describeE2E('the credential examples against real servers', () => servers.skip, () => {
  const s = servers.info!;
  const box = registriesBox();
  const tags: string[] = [];
  afterAll(async () => {
    if (tags.length) await docker(['rmi', '-f', ...tags]);
    box.cleanup();
  });

  const size = (file: string) => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  /** `secbuild verify` from the example's directory, `docker history` and `docker save`: none holds a credential byte. */
  async function provedClean(example: string, tag: string, env: NodeJS.ProcessEnv, values: string[]): Promise<void> {
    const needles = values.map((v) => Buffer.from(v));
    const [verify, saved, history] = await Promise.all([
      runCli(['verify', tag], { env, cwd: join(ROOT, 'examples', example) }),
      streamHolds(DOCKER, ['save', tag], needles),
      docker(['history', '--no-trunc', '--format', '{{.CreatedBy}} {{.Comment}}', tag]),
    ]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout + verify.stderr).toMatch(/: clean; searched \d+ layers/);
    expect(saved.code).toBe(0);
    expect(saved.bytes).toBeGreaterThan(1 << 20);
    expect(saved.found.map((b) => b.toString().slice(0, 6))).toEqual([]);
    expect(history.code).toBe(0);
    for (const n of needles) expect(history.stdout.includes(n), 'docker history holds a credential').toBe(false);
  }

  test('git-netrc: clones the private repo through the .netrc secret; without it git gets a 401', async () => {
    const dir = join(ROOT, 'examples', 'git-netrc');
    const tag = `secbuild-e2e-git-netrc:${id}`;
    tags.push(tag);
    // github.com resolves to 127.0.0.1 inside the build, so the example's own
    // `machine github.com` entry is the one git uses (netrc matching ignores the port).
    const flags = ['--network=host', '--add-host', 'github.com:127.0.0.1', '--build-arg', `BASE=${s.caImage}`,
      '--build-arg', `REPO_URL=https://github.com:${s.https.port}${s.git.path}`, '--no-cache', '--progress=plain'];
    const env = baseEnv(box, { GITHUB_TOKEN: s.https.password });
    const at = size(s.https.accessLog);
    const r = await runCli([...flags, '-t', tag, '.'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
    expect(logSince(s.https.accessLog, at)).toMatch(/^x-access-token "GET \/acme\/private-repo\.git\/info\/refs\?service=git-upload-pack [^"]*" 200$/m);
    const readme = await docker(['run', '--rm', '--network=none', tag, 'cat', '/src/README']);
    expect(readme.stdout.toString()).toBe(s.git.readme);
    await provedClean('git-netrc', tag, env, [s.https.password]);

    const before = size(s.https.accessLog);
    const bare = await docker(['build', ...flags, dir]);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toContain('could not read Username');
    const log = logSince(s.https.accessLog, before);
    expect(log).toMatch(/^- "GET \/acme\/private-repo\.git\/info\/refs\?service=git-upload-pack [^"]*" 401$/m);
    expect(log).not.toMatch(/ 200$/m);
  });

  test('pip-template: installs the private package through the templated pip.conf; without credentials pip gets a 401', async () => {
    const dir = join(ROOT, 'examples', 'pip-template');
    const tag = `secbuild-e2e-pip-template:${id}`;
    tags.push(tag);
    const flags = ['--network=host', '--build-arg', `BASE=${s.caImage}`, '--no-cache', '--progress=plain'];
    const host = `127.0.0.1:${s.https.port}`;
    const env = baseEnv(box, { PYPI_INDEX_USER: s.pip.user, PYPI_INDEX_PASSWORD: s.pip.password, PYPI_INDEX_HOST: host });
    const at = size(s.https.accessLog);
    const r = await runCli([...flags, '-t', tag, '.'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`Successfully installed ${s.pip.package}-${s.pip.version}`);
    expect(listDir(box.tmp)).toEqual([]);
    expect(logSince(s.https.accessLog, at)).toMatch(/^ci-bot "GET \/packages\/acme_internal_utils-2\.3\.0-py3-none-any\.whl [^"]*" 200$/m);
    const app = await docker(['run', '--rm', '--network=none', tag]);
    expect(app.stdout.toString()).toBe('Hello, world, from the private acme-internal-utils 2.3.0\n');
    await provedClean('pip-template', tag, env, [s.pip.password, encodeURIComponent(s.pip.password)]);

    // The same pip.conf without the user and password, handed to plain docker.
    const bareConf = join(box.dir, 'pip.conf');
    writeFileSync(bareConf, `[global]\nindex-url = https://${host}/simple/\n`, { mode: 0o600 });
    const before = size(s.https.accessLog);
    const bare = await docker(['build', ...flags, '--secret', `id=pip_conf,src=${bareConf}`, dir]);
    expect(bare.code).not.toBe(0);
    // pip 23 (--no-input) reports the index's 401 as "from versions: none"; the server's log shows the 401.
    expect(bare.stderr).toContain('No matching distribution found for acme-internal-utils==2.3.0');
    const log = logSince(s.https.accessLog, before);
    expect(log).toMatch(/^- "GET \/simple\/acme-internal-utils\/ [^"]*" 401$/m);
    expect(log).not.toMatch(/ 200$/m);
  });

  test('npm-private: npm ci of the private scoped package through the .npmrc secret; without a token Verdaccio answers 401', async () => {
    const dir = join(ROOT, 'examples', 'npm-private');
    const tag = `secbuild-e2e-npm-private:${id}`;
    tags.push(tag);
    const flags = ['--network=host', '--build-arg', `BASE=${s.caImage}`, '--no-cache', '--progress=plain'];
    const env = baseEnv(box, { NPM_TOKEN: s.npm.token });
    // --npmrc replaces the file secbuild.yml describes (GitHub Packages) with the
    // local registry's; its token is still the config's npm_token, read from NPM_TOKEN.
    const npmrc = ['--npmrc', `registry=${s.npm.registry},token=npm_token,scope=@acme`];
    const at = size(s.npm.log);
    const r = await runCli([...npmrc, ...flags, '-t', tag, '.'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/added 1 package/);
    expect(listDir(box.tmp)).toEqual([]);
    await expectLogged(s.npm.log, at, /200, user: e2e\w+\(127\.0\.0\.1\), req: 'GET \/@acme\/greeter\/-\/greeter-1\.2\.0\.tgz'/);
    const app = await docker(['run', '--rm', '--network=none', tag]);
    expect(app.stdout.toString()).toBe('Hello, world, from the private @acme/greeter 1.2.0\n');
    await provedClean('npm-private', tag, env, [s.npm.token]);

    // The same .npmrc without the token line, handed to plain docker.
    const bareRc = join(box.dir, 'npmrc');
    writeFileSync(bareRc, `@acme:registry=${s.npm.registry}\n`, { mode: 0o600 });
    const before = size(s.npm.log);
    const bare = await docker(['build', ...flags, '--secret', `id=npmrc,src=${bareRc}`, dir]);
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/E401/);
    await expectLogged(s.npm.log, before, /401, user: null\(127\.0\.0\.1\), req: 'GET \/@acme%2fgreeter', error: authorization required/);
  });

  test('a non-ASCII password: curl sends it as UTF-8 and nginx accepts it; pip sends it as Latin-1 and nginx refuses it', async () => {
    const user = `latin-${id}`;
    const password = `välue-${id}`;
    await addHtpasswdUser(s.dir, user, password);
    const ca = join(s.dir, 'nginx', 'tls', 'ca.crt');
    const index = `https://127.0.0.1:${s.https.port}/simple/`;
    const curl = await sh('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca, '-u', `${user}:${password}`, index]);
    expect(curl.stdout.toString()).toBe('200');
    // The pip.conf exactly as the example's `${pip_password|url}` renders it.
    const home = join(box.dir, 'pip-home');
    mkdirSync(home, { recursive: true });
    const conf = renderTemplate(`[global]\nindex-url = https://\${u|url}:\${p|url}@127.0.0.1:${s.https.port}/simple/\n`, (name) => Buffer.from(name === 'u' ? user : password));
    writeFileSync(join(home, 'pip.conf'), conf, { mode: 0o600 });
    const before = size(s.https.accessLog);
    const pip = await sh('/usr/bin/python3', ['-m', 'pip', 'download', '--no-input', '--no-deps', '--no-cache-dir', '--disable-pip-version-check', '--retries', '0', '-d', join(home, 'dl'), s.pip.package], {
      // requests lets REQUESTS_CA_BUNDLE override pip's own `cert`, and a site pip.conf may set one: the CA goes there.
      env: cleanEnv({ HOME: home, PIP_CONFIG_FILE: join(home, 'pip.conf'), REQUESTS_CA_BUNDLE: ca }),
    });
    expect(pip.code).not.toBe(0);
    // nginx names the user it was sent and refuses the password.
    expect(logSince(s.https.accessLog, before)).toMatch(new RegExp(`^${user} "GET /simple/acme-internal-utils/ [^"]*" 401$`, 'm'));
  });
});
