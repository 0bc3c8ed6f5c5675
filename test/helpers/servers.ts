/**
 * The e2e tier's real servers (issue 12), started once per run by
 * test/e2e/global-setup.ts and stopped by pid, all on 127.0.0.1 on free ports
 * with their data in one temp dir:
 *
 * - nginx (+ fcgiwrap running git-http-backend), basic auth on every path, on
 *   one HTTPS port: git smart-HTTP (`/acme/private-repo.git`) and a PEP 503
 *   index (`/simple/`, the wheel built here from registry-fixtures/). Its
 *   certificate is issued by a CA made for this run; `caImage` is the Debian
 *   base with that CA trusted, which the builds run FROM.
 * - Verdaccio (the pinned install of scripts/verdaccio-install.sh), where
 *   every package needs a token, holding @acme/greeter 1.2.0 — the tarball in
 *   registry-fixtures/, whose integrity examples/npm-private's lock file pins.
 *
 * Adapted from the verified recipes (git-http-up.sh, pip-index.sh,
 * verdaccio-up.sh); nothing here reads them at run time.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claim } from './fixture-dirs.js';

const FIXTURES = fileURLToPath(new URL('./registry-fixtures/', import.meta.url));
export const DEBIAN_BASE = 'secbuild-test/debian:local';
export const VERDACCIO_DIR = process.env.SECBUILD_VERDACCIO_DIR ?? '/opt/secbuild-test/verdaccio';

/** What the tests need to know about the servers; plain data (it crosses vitest's provide()). */
export interface ServersInfo {
  dir: string;
  /** The Debian base with this run's CA trusted (tag removed at teardown). */
  caImage: string;
  /** nginx: the one HTTPS port, the basic-auth user and password, the access log (`$remote_user` and status per line). */
  https: { port: number; user: string; password: string; accessLog: string };
  git: { path: string; readme: string };
  /** A second nginx user, for the pip index. */
  pip: { user: string; password: string; package: string; version: string };
  npm: { port: number; registry: string; token: string; package: string; version: string; log: string };
  pids: number[];
}

export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.on('error', () => undefined); // a child that exits without reading
    child.stdin!.end(opts.input ?? '');
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitUntil(what: string, ok: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${ms} ms`);
}

/** Starts a daemon in its own session (so its process group can be stopped by pid), output to a log. */
function daemon(cmd: string, args: string[], log: string, env: NodeJS.ProcessEnv = process.env): number {
  mkdirSync(join(log, '..'), { recursive: true });
  const fd = openSync(log, 'a');
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd], env });
  child.unref();
  return child.pid!;
}

/** Environment without the caller's npm/pip/git settings (npm sets npm_config_* for the scripts it runs). */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(npm_|PIP_|GIT_|CURL_)/i.test(k)) env[k] = v;
  return { ...env, ...extra };
}

/** A CA for this run and a leaf for 127.0.0.1 (and the examples' host names), with openssl. */
async function certificates(dir: string): Promise<void> {
  const o = (args: string[]) => run('openssl', args, { cwd: dir });
  await o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=secbuild e2e CA', '-keyout', 'ca.key', '-out', 'ca.crt']);
  await o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'tls.key', '-out', 'tls.csr']);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:github.com,DNS:pypi.example.com\nextendedKeyUsage=serverAuth\n');
  await o(['x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'tls.crt']);
}

async function gitRepo(root: string, readme: string): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'secbuild-e2e-gitseed-'));
  const g = (args: string[], cwd = work) => run('git', args, { cwd, env: cleanEnv({ GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }) });
  try {
    await g(['init', '-q', '-b', 'main', '.']);
    writeFileSync(join(work, 'README'), readme);
    await g(['add', 'README']);
    await g(['-c', 'user.name=secbuild-e2e', '-c', 'user.email=e2e@secbuild.invalid', 'commit', '-qm', 'private seed']);
    mkdirSync(join(root, 'acme'), { recursive: true });
    await g(['clone', '-q', '--bare', work, join(root, 'acme', 'private-repo.git')], root);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return '/acme/private-repo.git';
}

/** The PEP 503 index: the fixture's wheel, built offline with Debian's pip, under www/. */
async function pipIndex(www: string): Promise<void> {
  const src = mkdtempSync(join(tmpdir(), 'secbuild-e2e-wheel-'));
  cpSync(join(FIXTURES, 'acme-internal-utils'), src, { recursive: true });
  const pkgs = join(www, 'packages');
  mkdirSync(pkgs, { recursive: true });
  try {
    await run('/usr/bin/python3', ['-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '--no-input', '-w', pkgs, '.'], {
      cwd: src,
      env: cleanEnv({ PIP_CONFIG_FILE: '/dev/null', HOME: src }),
    });
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
  const whl = 'acme_internal_utils-2.3.0-py3-none-any.whl';
  const sha = (await run('sha256sum', [join(pkgs, whl)])).split(' ')[0];
  mkdirSync(join(www, 'simple', 'acme-internal-utils'), { recursive: true });
  writeFileSync(join(www, 'simple', 'index.html'), '<!DOCTYPE html>\n<html><body><a href="acme-internal-utils/">acme-internal-utils</a></body></html>\n');
  writeFileSync(join(www, 'simple', 'acme-internal-utils', 'index.html'), `<!DOCTYPE html>\n<html><body><a href="../../packages/${whl}#sha256=${sha}">${whl}</a></body></html>\n`);
}

function nginxConf(s: string, port: number): string {
  return `user root;
worker_processes 1;
pid ${s}/nginx.pid;
error_log ${s}/logs/error.log warn;
events { worker_connections 64; }
http {
    log_format who '$remote_user "$request" $status';
    access_log ${s}/logs/access.log who;
    client_body_temp_path ${s}/tmp/body;
    fastcgi_temp_path     ${s}/tmp/fastcgi;
    proxy_temp_path       ${s}/tmp/proxy;
    uwsgi_temp_path       ${s}/tmp/uwsgi;
    scgi_temp_path        ${s}/tmp/scgi;
    include /etc/nginx/mime.types;
    server {
        listen 127.0.0.1:${port} ssl;
        ssl_certificate     ${s}/tls/tls.crt;
        ssl_certificate_key ${s}/tls/tls.key;
        auth_basic           "private";
        auth_basic_user_file ${s}/htpasswd;
        client_max_body_size 0;
        location ~ \\.git(/.*)?$ {
            fastcgi_pass unix:${s}/fcgiwrap.sock;
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME     /usr/lib/git-core/git-http-backend;
            fastcgi_param GIT_PROJECT_ROOT    ${s}/git;
            fastcgi_param GIT_HTTP_EXPORT_ALL "";
            fastcgi_param PATH_INFO           $uri;
            fastcgi_param REMOTE_USER         $remote_user;
        }
        location / { root ${s}/www; }
    }
}
`;
}

/** Adds a basic-auth user to nginx's htpasswd (read on every request, so it takes effect at once). */
export async function addHtpasswdUser(dir: string, user: string, password: Buffer | string): Promise<void> {
  const hash = (await run('openssl', ['passwd', '-apr1', '-stdin'], { input: password.toString() })).trim();
  const file = join(dir, 'nginx', 'htpasswd');
  writeFileSync(file, `${existsSync(file) ? readFileSync(file, 'utf8') : ''}${user}:${hash}\n`, { mode: 0o644 });
}

async function startNginx(dir: string, info: Pick<ServersInfo, 'https' | 'pip' | 'pids'>): Promise<void> {
  const s = join(dir, 'nginx');
  for (const d of ['git', 'www', 'logs', 'tmp', 'tls']) mkdirSync(join(s, d), { recursive: true });
  await certificates(join(s, 'tls'));
  await addHtpasswdUser(dir, info.https.user, info.https.password);
  await addHtpasswdUser(dir, info.pip.user, info.pip.password);
  writeFileSync(join(s, 'nginx.conf'), nginxConf(s, info.https.port));
  info.pids.push(daemon('/usr/sbin/fcgiwrap', ['-c', '2', '-s', `unix:${s}/fcgiwrap.sock`], join(s, 'logs', 'fcgiwrap.log')));
  // -g 'daemon off;': nginx stays the child we started, so its pid is the master's.
  info.pids.push(daemon('nginx', ['-p', s, '-c', 'nginx.conf', '-g', 'daemon off;'], join(s, 'logs', 'nginx.out')));
  claim(dir, info.pids);
  await waitUntil('nginx', async () => existsSync(join(s, 'fcgiwrap.sock')) && (await probe(`https://127.0.0.1:${info.https.port}/`, join(s, 'tls', 'ca.crt'))) === 401);
}

/** The HTTP status of an unauthenticated GET (curl, trusting `ca`), or 0. */
async function probe(url: string, ca?: string): Promise<number> {
  const out = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', ...(ca ? ['--cacert', ca] : []), url]).catch(() => '0');
  return Number(out);
}

async function startVerdaccio(dir: string, info: Pick<ServersInfo, 'npm' | 'pids'>): Promise<void> {
  const bin = join(VERDACCIO_DIR, 'node_modules', '.bin', 'verdaccio');
  if (!existsSync(bin)) throw new Error(`Verdaccio is not installed in ${VERDACCIO_DIR} (run scripts/verdaccio-install.sh; .ci/provision.sh does)`);
  const s = join(dir, 'verdaccio');
  mkdirSync(join(s, 'storage'), { recursive: true });
  writeFileSync(join(s, 'config.yaml'), `storage: ${s}/storage
auth:
  htpasswd: { file: ${s}/htpasswd, max_users: 100 }
uplinks: {}
packages:
  '**': { access: $authenticated, publish: $authenticated }
listen: 127.0.0.1:${info.npm.port}
log: { type: stdout, format: pretty, level: http }
`);
  info.pids.push(daemon(process.execPath, [bin, '--config', join(s, 'config.yaml')], info.npm.log, { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }));
  claim(dir, info.pids);
  await waitUntil('Verdaccio', async () => (await probe(`${info.npm.registry}-/ping`)) === 200);
  const user = `e2e${randomBytes(4).toString('hex')}`;
  const res = await fetch(`${info.npm.registry}-/user/org.couchdb.user:${user}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: user, password: randomBytes(12).toString('hex') }),
  });
  const token = ((await res.json()) as { token?: string }).token;
  if (!res.ok || !token) throw new Error(`Verdaccio did not give a token (HTTP ${res.status})`);
  info.npm.token = token;
  const userconfig = join(s, 'publish.npmrc');
  writeFileSync(userconfig, `//127.0.0.1:${info.npm.port}/:_authToken=${token}\n`, { mode: 0o600 });
  await run('npm', ['publish', join(FIXTURES, 'acme-greeter-1.2.0.tgz'), '--registry', info.npm.registry, '--userconfig', userconfig, '--no-audit', '--ignore-scripts'], {
    cwd: s,
    env: cleanEnv({ npm_config_cache: join(s, 'cache'), npm_config_update_notifier: 'false' }),
  });
  rmSync(userconfig);
}

/**
 * The Debian base with this run's CA trusted, so git, pip and npm verify
 * nginx's certificate as they would a real one; and without Debian's PEP 668
 * marker, so `pip install` works as in the python:3.x images the example names.
 */
async function caImage(docker: string, dir: string, tag: string): Promise<void> {
  const ctx = join(dir, 'ca-image');
  mkdirSync(ctx, { recursive: true });
  cpSync(join(dir, 'nginx', 'tls', 'ca.crt'), join(ctx, 'secbuild-e2e-ca.crt'));
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${DEBIAN_BASE}
COPY secbuild-e2e-ca.crt /usr/local/share/ca-certificates/secbuild-e2e-ca.crt
RUN update-ca-certificates >/dev/null && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/secbuild-e2e-ca.crt
`);
  await run(docker, ['build', '-q', '--network=none', '-t', tag, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '1' } });
}

export async function startServers(docker: string): Promise<{ info: ServersInfo; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-e2e-servers-'));
  const [httpsPort, npmPort] = [await freePort(), await freePort()];
  const info: ServersInfo = {
    dir,
    caImage: `secbuild-e2e-debian-ca:${process.pid}`,
    // The password has characters .netrc, URLs and basic auth treat specially (see registries.test.ts).
    https: { port: httpsPort, user: 'x-access-token', password: `ghp_${randomBytes(6).toString('hex')}a"b#c;d=e%41@f/g+h:ä`, accessLog: join(dir, 'nginx', 'logs', 'access.log') },
    git: { path: '', readme: `private repo ${randomBytes(6).toString('hex')}\n` },
    pip: { user: 'ci-bot', password: `pw_${randomBytes(6).toString('hex')}"#;=%41@/+: x`, package: 'acme-internal-utils', version: '2.3.0' },
    npm: { port: npmPort, registry: `http://127.0.0.1:${npmPort}/`, token: '', package: '@acme/greeter', version: '1.2.0', log: join(dir, 'verdaccio', 'log') },
    pids: [],
  };
  const stop = async () => {
    for (const pid of info.pids) {
      try {
        process.kill(-pid, 'SIGTERM'); // its own session: the process group is the pid
      } catch {
        // gone
      }
    }
    await run(docker, ['rmi', '-f', info.caImage]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    info.git.path = await gitRepo(join(dir, 'nginx', 'git'), info.git.readme);
    await pipIndex(join(dir, 'nginx', 'www'));
    await Promise.all([startNginx(dir, info), startVerdaccio(dir, info)]);
    await caImage(docker, dir, info.caImage);
  } catch (err) {
    await stop();
    throw err;
  }
  return { info, stop };
}
