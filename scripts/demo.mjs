#!/usr/bin/env node
// `npm run demo`: the README's first command after `npm ci`. Builds
// examples/hello with a generated secret through the built CLI, verifies the
// image (--verify) and says what happened. On the way it does what a new
// machine lacks, or says the one thing to do and exits 2:
//
// - a docker CLI that builds with BuildKit: SECBUILD_DOCKER, else the first of
//   `which -a docker`, /usr/bin/docker, /usr/local/bin/docker, /snap/bin/docker
//   that has buildx or is older than 23 (secbuild then sets DOCKER_BUILDKIT=1);
// - a daemon that answers;
// - a base image: busybox:1.36 when it is there, else the local
//   secbuild-test/busybox:local, imported here from busybox-static (the same
//   image .ci/provision.sh makes) when /bin/busybox is static.
// Nothing it starts outlives it; the image it builds is secbuild-demo-hello.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// SECBUILD_DEMO_LOCAL_BASE names another local image to use or make (test/e2e/readme.test.ts makes a throwaway one).
const LOCAL_BASE = process.env.SECBUILD_DEMO_LOCAL_BASE || 'secbuild-test/busybox:local';
const IMAGE = process.env.SECBUILD_DEMO_IMAGE || 'secbuild-demo-hello';

const say = (line) => process.stdout.write(`demo: ${line}\n`);
function stop(line) {
  process.stderr.write(`demo: ${line}\n`);
  process.exit(2);
}
const run = (file, args, opts = {}) => spawnSync(file, args, { encoding: 'utf8', timeout: 30_000, ...opts });

if (!existsSync(join(ROOT, 'dist', 'secbuild.cjs'))) stop('dist/secbuild.cjs is missing: run `npm run build` (npm run demo does it first).');

function buildsWithBuildKit(docker) {
  if (run(docker, ['buildx', 'version']).status === 0) return 'buildx';
  const v = run(docker, ['version', '--format', '{{.Client.Version}}']).stdout?.trim().split('\n')[0] ?? '';
  const major = Number(/^(\d+)\./.exec(v)?.[1]);
  return Number.isFinite(major) && major < 23 ? `${v}, BuildKit via DOCKER_BUILDKIT=1` : undefined;
}

function chooseDocker() {
  if (process.env.SECBUILD_DOCKER) return [process.env.SECBUILD_DOCKER, buildsWithBuildKit(process.env.SECBUILD_DOCKER)];
  const seen = new Set();
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'docker')), '/usr/bin/docker', '/usr/local/bin/docker', '/snap/bin/docker'];
  let any;
  for (const c of candidates) {
    let real;
    try {
      real = realpathSync(c);
    } catch {
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    any ??= c;
    const how = buildsWithBuildKit(c);
    if (how) return [c, how];
  }
  return [any, undefined];
}

const [docker, how] = chooseDocker();
if (!docker) stop('no docker CLI is installed: run `sudo apt-get install docker.io` (Debian/Ubuntu), or `sudo bash .ci/provision.sh`, which also starts the daemon and makes the base image.');
const others = process.env.SECBUILD_DOCKER ? `; unset SECBUILD_DOCKER to let the demo look for one that can, or` : ' and no other docker CLI here can:';
if (!how) stop(`${docker} cannot build with BuildKit (a CLI of 23 or later without the buildx plugin)${others} run \`sudo apt-get install docker.io\` (Debian's 20.10 client builds with DOCKER_BUILDKIT=1; Debian 12 has no docker-buildx package), then npm run demo again.`);
say(`docker: ${docker} (${how})`);

const info = run(docker, ['info', '--format', '{{.ServerVersion}}']);
if (info.status !== 0) stop(`no Docker daemon answers through ${docker} (${(info.stderr ?? '').trim().split('\n').pop()}): start it (\`sudo systemctl start docker\`, or \`sudo bash .ci/provision.sh\`), or set DOCKER_HOST.`);
say(`daemon: engine ${info.stdout.trim()}`);

const has = (image) => run(docker, ['image', 'inspect', image]).status === 0;
function staticBusybox() {
  if (!existsSync('/bin/busybox')) return false;
  const ldd = run('ldd', ['/bin/busybox']);
  return ldd.status !== 0 || /not a dynamic executable|statically linked/.test(`${ldd.stdout}${ldd.stderr}`);
}
function importLocalBase() {
  const rootfs = mkdtempSync(join(tmpdir(), 'secbuild-demo-rootfs-'));
  try {
    for (const d of ['bin', 'tmp', 'etc', 'root', 'dev', 'proc', 'sys']) mkdirSync(join(rootfs, d));
    chmodSync(join(rootfs, 'tmp'), 0o1777);
    copyFileSync('/bin/busybox', join(rootfs, 'bin', 'busybox'));
    chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
    for (const applet of run('/bin/busybox', ['--list']).stdout.split('\n').filter((a) => a && a !== 'busybox')) symlinkSync('busybox', join(rootfs, 'bin', applet));
    writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\n');
    const tar = run('tar', ['-C', rootfs, '-c', '.'], { encoding: 'buffer', maxBuffer: 64 << 20 });
    if (tar.status !== 0) stop(`tar failed: ${tar.stderr}`);
    const imp = run(docker, ['import', '-c', 'ENV PATH=/bin', '-c', 'CMD ["/bin/sh"]', '-', LOCAL_BASE], { input: tar.stdout, encoding: 'buffer', timeout: 120_000 });
    if (imp.status !== 0) stop(`docker import failed: ${imp.stderr}`);
  } finally {
    rmSync(rootfs, { recursive: true, force: true });
  }
}

let base = process.env.SECBUILD_DEMO_LOCAL_BASE ? LOCAL_BASE : 'busybox:1.36';
if (!has(base)) {
  base = LOCAL_BASE;
  if (!has(base)) {
    if (!staticBusybox()) stop(`no base image: busybox:1.36 is not here and ${LOCAL_BASE} cannot be made without a static busybox: run \`sudo apt-get install busybox-static\`, then npm run demo again.`);
    say(`base image: importing ${LOCAL_BASE} from /bin/busybox (busybox-static), as .ci/provision.sh does`);
    importLocalBase();
  }
}
say(`base image: ${base}`);

// A fresh secret every run: the build prints only its length, --verify proves it is not in the image.
const secret = `demo-${randomBytes(12).toString('hex')}`;
const argv = [join(ROOT, 'bin', 'secbuild.js'), '--verify', '--secret', 'id=greeting,from=env:HELLO_TOKEN', '--build-arg', `BASE=${base}`, '--progress=plain', '--no-cache', '--network=none', '-t', IMAGE, join(ROOT, 'examples', 'hello')];
say(`running: HELLO_TOKEN=<generated, ${secret.length} bytes> secbuild ${argv.slice(1, -1).join(' ')} examples/hello`);
const build = spawnSync(process.execPath, argv, { stdio: 'inherit', env: { ...process.env, SECBUILD_DOCKER: docker, HELLO_TOKEN: secret }, timeout: 600_000 });
if (build.status !== 0) {
  process.stderr.write(`demo: the build failed (exit ${build.status ?? build.signal}); the lines above say why.\n`);
  process.exit(build.status ?? 1);
}
say(`done: ${IMAGE} was built from examples/hello with a generated ${secret.length}-byte secret "greeting";`);
say('      it was mounted from a private 0600 file on tmpfs for one RUN and removed afterwards, and');
say('      --verify searched every layer, the config and the history of the image: the secret is not in it.');
say(`      Remove the image with: ${docker} image rm ${IMAGE}`);
