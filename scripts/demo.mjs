#!/usr/bin/env node
// `npm run demo`: the README's first command after `npm ci`. Builds
// examples/hello with a generated secret through the built CLI, verifies the
// image (--verify) and says what happened. On the way it does what a new
// machine lacks, or says the one thing to do and exits 2:
//
// - a docker CLI that builds with BuildKit: secbuild decides, as for every
//   build (src/engines/docker/detect.ts). The demo runs its build with
//   --dry-run first, in the user's own environment (SECBUILD_DOCKER is
//   theirs, never set here); where secbuild refuses, its words are the
//   demo's, and the user's own first command prints the same (issue 24);
// - a daemon that answers;
// - the base image secbuild-test/busybox:local, which the README's "Try it"
//   command names: tagged from busybox:1.36 when that is here, else imported
//   from busybox-static (the image .ci/provision.sh makes) when /bin/busybox
//   is static.
// The setup steps use the docker secbuild runs: SECBUILD_DOCKER, else the
// first on PATH. Nothing it starts outlives it; the image it builds is
// secbuild-demo-hello. Its last line is the README's "Try it" command with
// the base it used (and SECBUILD_DOCKER in front when set).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// SECBUILD_DEMO_LOCAL_BASE names another local image to use or make (test/e2e/readme.test.ts makes a throwaway one).
const LOCAL_BASE = process.env.SECBUILD_DEMO_LOCAL_BASE || 'secbuild-test/busybox:local';
const IMAGE = process.env.SECBUILD_DEMO_IMAGE || 'secbuild-demo-hello';
const AGAIN = 'then npm run demo again (on a fresh Debian machine, `sudo bash .ci/provision.sh` sets up docker.io, its daemon and the base image).';

const say = (line) => process.stdout.write(`demo: ${line}\n`);
function stop(line, status = 2) {
  process.stderr.write(`demo: ${line}\n`);
  process.exit(status);
}
const run = (file, args, opts = {}) => spawnSync(file, args, { encoding: 'utf8', timeout: 30_000, ...opts });

if (!existsSync(join(ROOT, 'dist', 'secbuild.cjs'))) stop('dist/secbuild.cjs is missing: run `npm run build` (npm run demo does it first).');

// A fresh secret every run: the build prints only its length, --verify proves it is not in the image.
const secret = `demo-${randomBytes(12).toString('hex')}`;
const secbuild = (args, opts) => spawnSync(process.execPath, [join(ROOT, 'bin', 'secbuild.js'), ...args], { env: { ...process.env, HELLO_TOKEN: secret }, ...opts });
const buildArgs = (base) => ['--verify', '--secret', 'id=greeting,from=env:HELLO_TOKEN', '--build-arg', `BASE=${base}`, '--progress=plain', '--no-cache', '--network=none', '-t', IMAGE, join(ROOT, 'examples', 'hello')];

// secbuild's own check of the docker CLI, before anything is set up.
const dry = secbuild(['--dry-run', ...buildArgs(LOCAL_BASE)], { encoding: 'utf8', timeout: 120_000 });
if (dry.status !== 0 && /docker was not found on PATH/.test(dry.stderr ?? '') && !process.env.SECBUILD_DOCKER) {
  // A machine with nothing but Node: what runs without docker runs — the secret resolves (never
  // printed), the Dockerfile is checked — and the demo says in one line that nothing was built.
  const secretArgs = ['--secret', 'id=greeting,from=env:HELLO_TOKEN'];
  for (const args of [['secrets', ...secretArgs], ['check', ...secretArgs, join(ROOT, 'examples', 'hello')]]) {
    const r = secbuild(args, { encoding: 'utf8', timeout: 60_000 });
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? '');
    if (r.status !== 0) stop(`secbuild ${args[0]} failed (exit ${r.status ?? r.signal}); the lines above say why.`, r.status || 2);
  }
  say('no docker CLI on this machine, so nothing was built: secbuild resolved the secret and checked the Dockerfile (above).');
  say(`to build, install docker (on Debian 12, \`sudo bash .ci/provision.sh\` sets up docker.io, its daemon and the base image) and run npm run demo again.`);
  process.exit(0);
}
if (dry.status !== 0) {
  process.stderr.write(dry.stderr ?? '');
  stop(`secbuild stopped before building (exit ${dry.status ?? dry.signal}), and your own secbuild commands get the same answer here. Do what it says (SECBUILD_DOCKER in the environment applies to the demo too), ${AGAIN}`, dry.status || 2);
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    try {
      if (statSync(join(dir, name)).isFile()) return join(dir, name);
    } catch {}
  }
  return name;
}
const docker = process.env.SECBUILD_DOCKER || onPath('docker');
say(`docker: ${docker} builds with BuildKit (secbuild's own check, the same as for your builds)`);

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

const base = LOCAL_BASE;
if (!has(base)) {
  if (has('busybox:1.36')) {
    say(`base image: tagging busybox:1.36 as ${base}`);
    const tag = run(docker, ['tag', 'busybox:1.36', base]);
    if (tag.status !== 0) stop(`docker tag failed: ${tag.stderr}`);
  } else {
    if (!staticBusybox()) stop(`no base image: neither ${base} nor busybox:1.36 is here, and ${base} cannot be made without a static busybox: run \`sudo apt-get install busybox-static\` (or \`docker pull busybox:1.36\` where Docker Hub answers), ${AGAIN}`);
    say(`base image: importing ${base} from /bin/busybox (busybox-static), as .ci/provision.sh does`);
    importLocalBase();
  }
}
say(`base image: ${base}`);

const argv = buildArgs(base);
say(`running: HELLO_TOKEN=<generated, ${secret.length} bytes> secbuild ${argv.slice(0, -1).join(' ')} examples/hello`);
const build = secbuild(argv, { stdio: 'inherit', timeout: 600_000 });
if (build.status !== 0) {
  process.stderr.write(`demo: the build failed (exit ${build.status ?? build.signal}); the lines above say why.\n`);
  process.exit(build.status ?? 1);
}
say(`done: ${IMAGE} was built from examples/hello with a generated ${secret.length}-byte secret "greeting";`);
say('      it was mounted from a private 0600 file on tmpfs for one RUN and removed afterwards, and');
say('      --verify searched every layer, the config and the history of the image: the secret is not in it.');
say(`      Remove the image with: ${docker} image rm ${IMAGE}`);
// The README's "Try it" command, as printed there: the user's next step.
const sq = (w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
const prefix = process.env.SECBUILD_DOCKER ? `SECBUILD_DOCKER=${sq(process.env.SECBUILD_DOCKER)} ` : '';
say(`next, try it yourself: ${prefix}HELLO_TOKEN=s3cret npx secbuild --secret id=greeting,from=env:HELLO_TOKEN --build-arg BASE=${sq(base)} --progress=plain --no-cache -t secbuild-hello examples/hello`);
