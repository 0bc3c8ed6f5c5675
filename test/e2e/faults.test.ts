/**
 * Fault injection against the real daemon (faults issue): each case asserts
 * that the private secret root is empty afterwards, no orphaned docker or
 * build process is left, and the exit code.
 */
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { CLI, context, listDir, nonce, pidsMatching, runCli, sandbox, startCli, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

const SECRET = `faults-${nonce()}-secret`;

/** The watchdog of the run whose files are under `root` (its argv names the run directory). */
function watchdogOf(root: string): number[] {
  return pidsMatching('secbuild-watchdog').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root);
    } catch {
      return false;
    }
  });
}

/** PIDs of `sleep` processes with this argument: a cmd: provider, not the secbuild whose argv names it. */
function sleeping(arg: string): number[] {
  return pidsMatching(arg).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0');
    } catch {
      return false;
    }
  });
}

describeE2E('faults', () => {
  const box = sandbox();
  const env = baseEnv(box, { E2E_TOKEN: SECRET });
  const secretArgs = ['--secret', 'id=tok,from=env:E2E_TOKEN'];
  const tags: string[] = [];
  afterAll(async () => {
    for (const t of tags) await docker(['rmi', '-f', t]);
    box.cleanup();
  });

  test('the watchdog is killed first: another starts within a second, and a later SIGKILL of secbuild still cleans up within 5 s', async () => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const slow = context(`FROM $BASE\nRUN --mount=type=secret,id=tok sleep 5${marker}\n`);
    try {
      const run = startCli([...secretArgs, '--no-cache', slow.dir], { env });
      await waitFor('the RUN to start', () => pidsMatching(`sleep 5${marker}`).length > 0, 60_000);
      const [first] = watchdogOf(box.tmp);
      expect(first).toBeDefined();
      process.kill(first!, 'SIGKILL');
      await waitFor('another watchdog', () => watchdogOf(box.tmp).some((p) => p !== first), 1_000);
      run.child.kill('SIGKILL');
      await run.done;
      const tookFiles = await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
      await waitFor('the orphaned build to stop', () => pidsMatching(`sleep 5${marker}`).length === 0, 5_000 - tookFiles);
    } finally {
      slow.cleanup();
    }
  });

  // Two ways verify reads an image (src/verify/save.ts): `docker save` (SECBUILD_VERIFY_VIA=cli, or a daemon not
  // behind a Unix socket) and the daemon's own socket (src/verify/api-save.ts).
  test.each(['docker save', "the daemon's socket"])('verify of an image read through %s: a SIGTERM while it streams ends secbuild with 143 at once', async (via) => {
    const cli = via === 'docker save';
    const tag = `secbuild-e2e-faults:big-${nonce()}`;
    tags.push(tag);
    const big = context('FROM $BASE\nRUN dd if=/dev/zero of=/big bs=1M count=384 2>/dev/null\n');
    try {
      const built = await runCli(['-t', tag, big.dir], { env });
      expect(built.code, built.stderr).toBe(0);
      const run = startCli(['verify', ...secretArgs, tag], { env: { ...env, SECBUILD_DEBUG: '1', ...(cli ? { SECBUILD_VERIFY_VIA: 'cli' } : {}) } });
      let stderr = '';
      run.child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      // The save starts by name, at once (it runs while the secrets resolve: src/verify/scan.ts).
      if (cli) await waitFor('docker save to start', () => pidsMatching(`save ${tag}`).length > 0 || run.child.exitCode !== null, 30_000);
      else await waitFor("the daemon's export to be asked for", () => /verify: reading the daemon's export/.test(stderr) || run.child.exitCode !== null, 30_000);
      expect(run.child.exitCode).toBeNull();
      const killed = Date.now();
      run.child.kill('SIGTERM');
      const r = await run.done;
      expect(r.code).toBe(143);
      expect(Date.now() - killed).toBeLessThan(5_000);
      if (cli) await waitFor('docker save to stop', () => pidsMatching(`save ${tag}`).length === 0, 5_000);
    } finally {
      big.cleanup();
    }
  });

  test('a build whose stdout is the artifact (-o -): the tar comes out byte-exact, only stderr is masked', async () => {
    const ctx = context('FROM $BASE AS out\nRUN --mount=type=secret,id=tok printf "root\\n" > /root.txt && cat /run/secrets/tok >&2\nFROM scratch\nCOPY --from=out /root.txt /\n');
    try {
      const r = await runCli([...secretArgs, '--secret', 'id=word,from=env:WORD', '--progress=plain', '--no-cache', '-o', '-', ctx.dir], { env: { ...env, WORD: 'root' } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/stdout .* not masked/);
      expect(r.stderr.includes(SECRET)).toBe(false);
      const { execFileSync } = await import('node:child_process');
      const listing = execFileSync('tar', ['-tv'], { input: Buffer.from(r.stdout, 'latin1') }).toString();
      expect(listing).toContain('root.txt');
    } finally {
      ctx.cleanup();
    }
  });

  test('engine detection fails while a slow cmd: provider runs: secbuild exits at once and the command is stopped', async () => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
    try {
      const started = Date.now();
      const r = await runCli(['--secret', `id=tok,from=cmd:sleep 6${marker}`, '--docker', '/bin/false', ctx.dir], { env: { ...env, XDG_CACHE_HOME: join(box.dir, `cache-${nonce()}`) } });
      expect(r.code).toBe(2);
      expect(Date.now() - started).toBeLessThan(5_000);
      await waitFor('the cmd: provider to stop', () => sleeping(`6${marker}`).length === 0, 2_000);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });

  test.each(['SIGKILL of the whole process group', 'SIGSTOP, then SIGKILL'] as const)('%s during a build: the watchdog removes the files and stops the build within 5 s', async (how) => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const slow = context(`FROM $BASE\nRUN --mount=type=secret,id=tok sleep 6${marker}\n`);
    try {
      const child = spawn(process.execPath, [CLI, ...secretArgs, '--no-cache', slow.dir], { env, stdio: 'ignore', detached: true });
      await waitFor('the RUN to start', () => pidsMatching(`sleep 6${marker}`).length > 0, 60_000);
      if (how === 'SIGKILL of the whole process group') process.kill(-child.pid!, 'SIGKILL');
      else {
        child.kill('SIGSTOP');
        await new Promise((r) => setTimeout(r, 300));
        expect(listDir(box.tmp).length).toBe(1); // stopped, not dead: nothing is removed yet
        child.kill('SIGKILL');
      }
      const tookFiles = await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
      await waitFor('the build to stop', () => pidsMatching(`sleep 6${marker}`).length === 0 && pidsMatching(`src=${box.tmp}`).length === 0, 5_000 - tookFiles);
    } finally {
      slow.cleanup();
    }
  });

  test('SIGKILL during a slow cmd: provider: nothing was written, nothing is left', async () => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
    try {
      const run = startCli(['--secret', `id=tok,from=cmd:sleep 7${marker}`, ctx.dir], { env });
      await waitFor('the provider to run', () => sleeping(`7${marker}`).length > 0, 30_000);
      run.child.kill('SIGKILL');
      await run.done;
      expect(listDir(box.tmp)).toEqual([]);
      expect(pidsMatching(`src=${box.tmp}`)).toEqual([]);
      for (const pid of sleeping(`7${marker}`)) process.kill(pid, 'SIGKILL'); // the README names this limit: an orphaned cmd: runs on
    } finally {
      ctx.cleanup();
    }
  });

  test('SIGTERM during a slow cmd: provider, before docker starts: exit 143, the report is written, nothing left', async () => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
    const report = join(box.dir, `sigterm-report-${nonce()}.json`);
    try {
      const run = startCli(['--secret', `id=tok,from=cmd:sleep 8${marker}`, '--report', report, ctx.dir], { env });
      await waitFor('the provider to run', () => sleeping(`8${marker}`).length > 0, 30_000);
      run.child.kill('SIGTERM');
      const r = await run.done;
      expect(r.code).toBe(143);
      expect(JSON.parse(readFileSync(report, 'utf8')).exitCode).toBe(143);
      await waitFor('the provider to stop', () => sleeping(`8${marker}`).length === 0, 2_000);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });

  test('SIGKILL during build --verify: the files are gone already and docker save does not outlive secbuild', async () => {
    const tag = `secbuild-e2e-faults:verify-${nonce()}`;
    tags.push(tag);
    const big = context('FROM $BASE\nRUN --mount=type=secret,id=tok dd if=/dev/zero of=/big bs=1M count=384 2>/dev/null\n');
    try {
      const run = startCli([...secretArgs, '--verify', '-t', tag, big.dir], { env });
      await waitFor('docker save to start', () => pidsMatching('save sha256:').length > 0 || run.child.exitCode !== null, 120_000);
      expect(listDir(box.tmp)).toEqual([]);
      run.child.kill('SIGKILL');
      await run.done;
      await waitFor('docker save to stop', () => pidsMatching('save sha256:').length === 0, 5_000);
    } finally {
      big.cleanup();
    }
  });

  test('a live build in another PID namespace sharing the root is never swept: its files stay and it succeeds', async () => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const slow = context(`FROM $BASE\nARG N\nRUN --mount=type=secret,id=tok sleep 3 && test "$(cat /run/secrets/tok)" = "${SECRET}" && echo ${marker}\n`);
    try {
      // In its own PID namespace secbuild's pid is 99991, which no process here has (pid_max is lower): the old,
      // pid-based sweep took its directory for a dead run's.
      const inner = [process.execPath, join(process.cwd(), 'bin', 'secbuild.js'), ...secretArgs, '--no-cache', '--build-arg', `N=${nonce()}`, slow.dir]
        .map((a) => `'${a.replaceAll("'", `'\\''`)}'`)
        .join(' ');
      const run = startCliRaw('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', `echo 99990 > /proc/sys/kernel/ns_last_pid; ${inner}`], env);
      const entryOf = () => listDir(box.tmp).find((n) => n.startsWith('secbuild-99991-'));
      await waitFor('the namespaced run to write its files', () => entryOf() !== undefined && listDir(join(box.tmp, entryOf()!)).includes('00-tok'), 30_000);
      const entry = entryOf();
      const files = listDir(join(box.tmp, entry!));
      const clean = await runCli(['clean'], { env });
      expect(clean.code, clean.stderr).toBe(0);
      expect(listDir(join(box.tmp, entry!))).toEqual(files);
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toContain(marker);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      slow.cleanup();
    }
  });
});

/** Runs a command (not the CLI) to its end, with its output. */
function startCliRaw(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}
