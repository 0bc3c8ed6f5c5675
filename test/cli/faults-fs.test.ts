/**
 * File-system faults through the built CLI, the cases that need no daemon
 * (faults issue, items 4, 5, 10 and 11): a secret id too long for a file name,
 * an unwritable secret root, a stdin or a Dockerfile without end, a COPY of a
 * symlink to a credential file, and a umask that takes the owner's write bit.
 * Each asserts the exit code, the one-line message and that the private
 * secret root is empty afterwards. The real-daemon cases (a full tmpfs among
 * them) are in test/e2e/faults-fs.test.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, SHM, context, listDir, noDockerEnv, nonce, runCli, sandbox, type RunResult, type Sandbox } from '../helpers/cli.js';
import { fakeDocker, fakeDockerSuite } from '../helpers/fake-docker.js';
import { skipUnlessCI } from '../helpers/ci.js';

const VALUE = `faults-fs-${nonce()}-value`;
const asRoot = !skipUnlessCI(process.getuid?.() !== 0 && 'it runs secbuild as uid 65534, which needs root', 'faults-fs: the unwritable-root case');
const NOBODY = 65534;

interface Run {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdin: a file opened for it (a character device such as /dev/zero), or the output of a command (`yes`). */
  stdin?: { file: string } | { command: string[] };
  /** Run under `umask MASK`, set by a shell that then execs node (so the pid is node's). */
  umask?: string;
  uid?: number;
}

/**
 * The built CLI, killed (SIGKILL, by pid) after 15 s: a secbuild that reads
 * without bound blocks its event loop, so a test that fails must not leave it
 * behind holding gigabytes.
 */
function run(args: string[], opts: Run): Promise<RunResult> {
  const fd = opts.stdin && 'file' in opts.stdin ? openSync(opts.stdin.file, 'r') : undefined;
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const [file, argv] = opts.umask ? ['/bin/sh', ['-c', `umask ${opts.umask}; exec ${quoted}`]] : [process.execPath, [CLI, ...args]];
  const child = spawn(file, argv, {
    env: opts.env,
    cwd: opts.cwd,
    stdio: [fd ?? (opts.stdin ? 'pipe' : 'ignore'), 'pipe', 'pipe'],
    ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.uid }),
  });
  if (fd !== undefined) closeSync(fd);
  const feeder = opts.stdin && 'command' in opts.stdin ? spawn(opts.stdin.command[0]!, opts.stdin.command.slice(1), { stdio: ['ignore', 'pipe', 'ignore'] }) : undefined;
  if (feeder) {
    child.stdin!.on('error', () => undefined); // EPIPE once secbuild stops reading
    feeder.stdout!.pipe(child.stdin!);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      feeder?.kill('SIGKILL');
      resolve({ code, signal, stdout, stderr });
    }),
  );
}

describe('file-system faults without a daemon', () => {
  const box = sandbox();
  const env = noDockerEnv(box, { E2E_TOKEN: VALUE });
  const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
  afterAll(() => {
    ctx.cleanup();
    box.cleanup();
  });

  test('item 5: a 300-character secret id is refused when the flag is parsed, exit 2, before anything is written', async () => {
    const id = 'a'.repeat(300);
    const r = await runCli(['--dry-run', '--secret', `id=${id},from=env:E2E_TOKEN`, ctx.dir], { env });
    expect(r.code, r.stderr).toBe(2);
    // The id is not quoted: 300 characters typed as an id may be a credential (src/util/shown.ts).
    expect(r.stderr).toBe('secbuild: --secret: the secret id is 300 characters long; use an id of at most 128 characters.\n');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('item 4: secret set with stdin from /dev/zero stops at 500 KiB + 1 byte and refuses, exit 2', async () => {
    const started = Date.now();
    const r = await run(['secret', 'set', 'secbuild-faults/zero'], { env, stdin: { file: '/dev/zero' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe('secbuild: the value on stdin for secbuild-faults/zero is larger than 500 KiB, the most BuildKit mounts as a secret; nothing was stored.\n');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('item 4: secret set with an endless pipe (yes) on stdin stops and refuses, exit 2', async () => {
    const r = await run(['secret', 'set', 'secbuild-faults/yes'], { env, stdin: { command: ['yes'] } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe('secbuild: the value on stdin for secbuild-faults/yes is larger than 500 KiB, the most BuildKit mounts as a secret; nothing was stored.\n');
  });

  test('item 4: check -f /dev/zero reads at most 1 MiB + 1 byte of the Dockerfile and refuses it, exit 2', async () => {
    const r = await run(['check', '-f', '/dev/zero', ctx.dir], { env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe('secbuild: Dockerfile /dev/zero is larger than 1 MiB; check -f (secbuild reads at most 1 MiB of a Dockerfile).\n');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('item 4: a Dockerfile from a FIFO whose writer never stops is refused without hanging, exit 2', async () => {
    const fifo = join(box.dir, `fifo-${nonce()}`);
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('/bin/sh', ['-c', `exec yes RUN > '${fifo}'`], { stdio: 'ignore' });
    try {
      const r = await run(['check', '-f', fifo, ctx.dir], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`secbuild: Dockerfile ${fifo} is larger than 1 MiB; check -f (secbuild reads at most 1 MiB of a Dockerfile).\n`);
    } finally {
      writer.kill('SIGKILL');
    }
  });

  test('item 4: a regular Dockerfile over 1 MiB is refused from its size, exit 2', async () => {
    const big = context(`FROM $BASE\n${'# filler\n'.repeat(130_000)}`);
    try {
      const r = await runCli(['check', big.dir], { env });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`secbuild: Dockerfile ${join(big.dir, 'Dockerfile')} is larger than 1 MiB; check -f (secbuild reads at most 1 MiB of a Dockerfile).\n`);
    } finally {
      big.cleanup();
    }
  });

  test('item 10: check: COPY of a symlink to .npmrc is credential-file-copied, an error, exit 4', async () => {
    const linked = linkedContext();
    try {
      const r = await runCli(['check', '.'], { env, cwd: linked.dir });
      expect(r.code, r.stdout + r.stderr).toBe(4);
      expect(r.stdout).toMatch(/^Dockerfile:3: error credential-file-copied: COPY copies "config\.txt", a symlink to the credential file "\.npmrc", into the image, where anyone who can pull the image can read it\.$/m);
      expect(r.stdout + r.stderr).not.toContain(VALUE);
    } finally {
      linked.cleanup();
    }
  });
});

/** A context whose config.txt is a symlink to its .npmrc, and a Dockerfile that copies config.txt. */
function linkedContext(): { dir: string; cleanup: () => void } {
  const linked = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\nCOPY config.txt /app/\n', { '.npmrc': `//registry.example/:_authToken=${VALUE}\n` });
  symlinkSync('.npmrc', join(linked.dir, 'config.txt'));
  return linked;
}

describe('file-system faults at the docker call (argv and files only)', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');

  test('item 4: build -f /dev/zero reads at most 1 MiB + 1 byte of the Dockerfile and refuses it, exit 2, docker not run (argv and files only)', async () => {
    const rec = fake.record({ E2E_TOKEN: VALUE });
    const r = await run(['--secret', 'id=tok,from=env:E2E_TOKEN', '-f', '/dev/zero', ctx.dir], { env: rec.env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe('secbuild: Dockerfile /dev/zero is larger than 1 MiB; check -f (secbuild reads at most 1 MiB of a Dockerfile).\n');
    expect(rec.runs()).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('item 10: the build preflight stops a COPY of a symlink to .npmrc, exit 4, docker not run (argv and files only)', async () => {
    const linked = linkedContext();
    try {
      const rec = fake.record({ E2E_TOKEN: VALUE });
      const r = await runCli(['--secret', 'id=tok,from=env:E2E_TOKEN', '.'], { env: rec.env, cwd: linked.dir });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/^secbuild: .*Dockerfile:3: COPY copies "config\.txt", a symlink to the credential file "\.npmrc", into the image, where anyone who can pull the image can read it\. /m);
      expect(r.stderr).not.toContain(VALUE);
      expect(rec.runs()).toEqual([]);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      linked.cleanup();
    }
  });

  test('item 11: under umask 0277 the build runs, its secret file is 0600 in a 0700 directory, and the root is empty afterwards (argv and files only)', async () => {
    const rec = fake.record({ E2E_TOKEN: VALUE });
    const r = await run(['--secret', 'id=tok,from=env:E2E_TOKEN', ctx.dir], { env: rec.env, umask: '0277' });
    expect(r.code, r.stderr).toBe(0);
    expect(rec.runs()).toHaveLength(1);
    expect(rec.read('files/00-tok.ls')).toMatch(/^-rw------- /);
    expect(rec.read('files/00-tok')).toBe(VALUE);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.skipIf(!asRoot)('item 11 for a user who is not root (uid 65534, which root\'s permission bypass cannot hide): under umask 0777 the run directory is made 0700 and used', async () => {
    const dir = mkdtempSync(join(SHM, 'secbuild-cli-'));
    try {
      chownSync(dir, NOBODY, NOBODY);
      const env = { PATH: process.env.PATH, HOME: dir, XDG_CACHE_HOME: dir, SECBUILD_TMPDIR: dir, E2E_TOKEN: VALUE };
      const r = await run(['exec', '--secret', 'id=tok,from=env:E2E_TOKEN', '--', 'sh', '-c', 'ls -ld "$SECBUILD_SECRETS"; ls -l "$SECBUILD_SECRETS/tok"; cat "$SECBUILD_SECRETS/tok" | wc -c'], { env, cwd: dir, uid: NOBODY, umask: '0777' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^drwx------ [^\\n]*\\n-rw------- [^\\n]*\\n\\s*${VALUE.length}\\n$`));
      expect(listDir(dir).filter((n) => n.startsWith('secbuild-'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.skipIf(!asRoot)('item 5: a root this user cannot write (EACCES; secbuild runs as uid 65534) is exit 2 with one sentence, and docker is not run (argv and files only)', async () => {
    // Everything uid 65534 needs lives in a directory of its own: the CLI, the stand-in and the context are readable; the root is root's, 0755.
    const dir = mkdtempSync(join('/dev/shm', 'secbuild-cli-'));
    try {
      chmodSync(dir, 0o755);
      chownSync(dir, NOBODY, NOBODY);
      const nobodyBox: Sandbox = { dir, tmp: join(dir, 'root'), cache: join(dir, 'cache'), cleanup: () => undefined };
      mkdirSync(nobodyBox.tmp, { mode: 0o755 });
      chmodSync(nobodyBox.tmp, 0o755);
      mkdirSync(nobodyBox.cache, { mode: 0o700 });
      chownSync(nobodyBox.cache, NOBODY, NOBODY);
      const build = join(dir, 'ctx');
      mkdirSync(build, { mode: 0o755 });
      writeFileSync(join(build, 'Dockerfile'), readFileSync(join(ctx.dir, 'Dockerfile')));
      const rec = fakeDocker(nobodyBox).record({ E2E_TOKEN: VALUE, HOME: dir });
      const r = await run(['--secret', 'id=tok,from=env:E2E_TOKEN', build], { env: rec.env, cwd: build, uid: NOBODY });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`secbuild: secret root ${nobodyBox.tmp} is not writable by this user (EACCES); choose a directory of your own with --tmpdir or SECBUILD_TMPDIR.\n`);
      expect(rec.runs()).toEqual([]);
      expect(listDir(nobodyBox.tmp)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
