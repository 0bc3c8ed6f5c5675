/**
 * `secbuild exec` with real commands (sh, sleep, git), no docker at all
 * (SECBUILD_DOCKER names nothing): the files under $SECBUILD_SECRETS, --env,
 * masking off a terminal and not on one, exit codes and signals passed
 * through, cleanup on every exit path (SIGKILL included: the watchdog), and
 * where the value is while the command runs — in no argv, and in the
 * environment of the command alone, under the variable asked for. The tools
 * against real servers (npm ci, git clone, pip install): test/e2e/exec.test.ts.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { onPath, skipUnlessCI } from '../helpers/ci.js';
import { CLI, listDir, noDockerEnv, nonce, pidsMatching, runCli, sandbox, sh, startCli, waitFor } from '../helpers/cli.js';

/** Every process whose environment or argv holds `value` (raw or base64): pid → the entries that do. */
function holders(value: string): Map<number, { environ: string[]; cmdline: boolean }> {
  const needles = [Buffer.from(value), Buffer.from(Buffer.from(value).toString('base64').replace(/=+$/, ''))];
  const out = new Map<number, { environ: string[]; cmdline: boolean }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${name}/environ`);
      const cmdline = readFileSync(`/proc/${name}/cmdline`);
      const has = (b: Buffer) => needles.some((n) => b.includes(n));
      const entries = environ.toString('latin1').split('\0').filter((e) => has(Buffer.from(e, 'latin1')));
      if (entries.length > 0 || has(cmdline)) out.set(Number(name), { environ: entries, cmdline: has(cmdline) });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** The processes whose argv is exactly `argv` (not secbuild's own, whose argv holds it after `--`). */
function running(...argv: string[]): number[] {
  const want = `${argv.join('\0')}\0`;
  return readdirSync('/proc').filter((n) => {
    try {
      return /^\d+$/.test(n) && readFileSync(`/proc/${n}/cmdline`, 'utf8') === want;
    } catch {
      return false;
    }
  }).map(Number);
}

describe('secbuild exec (real commands, no docker)', () => {
  const box = sandbox();
  const env = (extra: NodeJS.ProcessEnv = {}) => noDockerEnv(box, extra);
  afterAll(() => box.cleanup());
  const marker = () => `${Math.floor(Math.random() * 90000) + 10000}`;

  test('--env: the value is in the variable asked for, masked off a terminal (| cat), its source variable removed', async () => {
    const value = `exec-env-${nonce()}`;
    const r = await runCli(['exec', '--env', 'T=env:SRC', '--', 'sh', '-c', 'echo "$T"; echo "src=${SRC-unset}"; echo "$T" >&2'], { env: env({ SRC: value }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('***\nsrc=unset\n');
    expect(r.stderr).toContain('***\n');
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--secret: $SECBUILD_SECRETS/ID, 0600 in a 0700 directory, byte-exact; removed after', async () => {
    const value = `exec-file-${nonce()}\n`;
    const r = await runCli(['exec', '--secret', 'id=tok,from=env:SRC', '--no-mask', '--', 'sh', '-c', 'stat -c "%a %n" "$SECBUILD_SECRETS" "$SECBUILD_SECRETS/tok"; od -An -c "$SECBUILD_SECRETS/tok" | tr -d " \\n"; echo; echo "dir=$SECBUILD_SECRETS"'], { env: env({ SRC: value }) });
    expect(r.code, r.stderr).toBe(0);
    const dir = /^dir=(.*)$/m.exec(r.stdout)![1]!;
    expect(dir.startsWith(`${box.tmp}/secbuild-`)).toBe(true);
    expect(r.stdout).toContain(`700 ${dir}\n600 ${dir}/tok\n`);
    expect(r.stdout).toContain(`${value.trimEnd()}\\n\n`);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.each([
    ['exit 7', 7],
    ['exit 0', 0],
    ['kill -TERM $$', 143],
  ])("the command's end is secbuild's exit code: sh -c '%s' → %i, files removed", async (script, code) => {
    const r = await runCli(['exec', '--secret', 'id=tok,from=env:SRC', '--', 'sh', '-c', script], { env: env({ SRC: `v-${nonce()}` }) });
    expect(r.code).toBe(code);
    expect(r.stderr).not.toMatch(/exited with code/);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a command that is not on PATH: exit 2 before any secret resolves, nothing written', async () => {
    const r = await runCli(['exec', '--secret', 'id=tok,from=cmd:false', '--', `no-such-command-${nonce()}`], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/secbuild: command "no-such-command-\w+" is not found on PATH; check its name, or give its path\.\n$/);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--env of a value with a NUL byte is refused (exit 2), naming the variable and the way out, never the value', async () => {
    const file = join(box.dir, `nul-${nonce()}`);
    writeFileSync(file, 'abc\0defghi');
    const r = await runCli(['exec', '--env', `T=file:${file}`, '--', 'true'], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--env T: the value of file:${file} contains a NUL byte, which an environment variable cannot hold; deliver it as a file instead: --secret id=T,from=file:${file}`);
    expect(r.stderr).not.toContain('defghi');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--dry-run prints paths and variable names, never a value, and runs nothing', async () => {
    const value = `dry-${nonce()}`;
    const flag = join(box.dir, `ran-${nonce()}`);
    const r = await runCli(['exec', '--dry-run', '--env', 'T=env:SRC', '--netrc', 'machine=h,login=u,password=env:SRC', '--secret', 'id=tok,from=env:SRC', '--', 'touch', flag], { env: env({ SRC: value }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`command: touch ${flag}\n`);
    expect(r.stdout).toMatch(new RegExp(`^  SECBUILD_SECRETS=${box.tmp}/secbuild-\\d+-XXXXXX$`, 'm'));
    expect(r.stdout).toMatch(/^ {2}NETRC=.*\/netrc$/m);
    expect(r.stdout).toMatch(/^ {2}T=\*\*\* \(the value of env:SRC\)$/m);
    expect(r.stdout).toMatch(/^ {2}\S+\/tok \(secret "tok", 0600\)$/m);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(() => statSync(flag)).toThrow();
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--report: the command, its exit code, the secrets by id and source (no value), the phases reached', async () => {
    const value = `rep-${nonce()}`;
    const report = join(box.dir, `report-${nonce()}.json`);
    const r = await runCli(['exec', '--report', report, '--env', 'T=env:SRC', '--', 'sh', '-c', 'exit 3'], { env: env({ SRC: value }) });
    expect(r.code).toBe(3);
    const text = readFileSync(report, 'utf8');
    expect(text).not.toContain(value);
    expect(JSON.parse(text)).toMatchObject({ command: 'exec', exitCode: 3, runs: [{ argv: ['sh', '-c', 'exit 3'], exitCode: 3 }], secrets: [{ id: '$T', source: 'env:SRC', mounted: false, masked: true }] });
    expect((JSON.parse(text) as { timings: Array<{ phase: string }> }).timings.map((t) => t.phase)).toEqual(['start', 'plan', 'root', 'preflight', 'resolve', 'checks', 'files']);
  });

  test('SECBUILD_DEBUG=1: the phases exec marks in its own bundle are the ones the entry prints', async () => {
    const r = await runCli(['exec', '--', 'true'], { env: env({ SECBUILD_DEBUG: '1' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^secbuild: debug: phases start=\S+ plan=\S+ root=\S+ preflight=\S+ resolve=\S+ checks=\S+ files=\S+ docker=\S+$/m);
  });

  const noGit = skipUnlessCI(!onPath('git') && 'git is not on PATH', 'exec: the git credential-helper case');
  test.skipIf(noGit)('git: --netrc reaches git through its credential helper, matched on the host without the port; other hosts get nothing', async () => {
    const password = `pw-${nonce()}%"#;=@/+:`;
    const ask = (host: string) => `printf 'protocol=https\\nhost=${host}\\n\\n' | git credential fill`;
    const r = await runCli(['exec', '--netrc', 'machine=127.0.0.1,login=bob,password=env:P', '--netrc', 'machine=git.example.com,login=x-access-token,password=env:P', '--no-mask', '--',
      'sh', '-c', `${ask('127.0.0.1:8443')}; ${ask('git.example.com')}; ${ask('other.example.com')} || echo other=none`], { env: env({ P: password, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`protocol=https\nhost=127.0.0.1:8443\nusername=bob\npassword=${password}\nprotocol=https\nhost=git.example.com\nusername=x-access-token\npassword=${password}\nother=none\n`);
  });

  test('on a terminal the command gets the terminal (stdin, stdout, stderr) and the output is not masked; --mask masks it', async () => {
    const value = `tty-${nonce()}`;
    const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;
    const line = (extra: string[]) => [process.execPath, CLI, 'exec', ...extra, '--env', 'T=env:SRC', '--', 'sh', '-c', 'for fd in 0 1 2; do [ -t $fd ] && printf "tty$fd "; done; echo "$T"'].map(quote).join(' ');
    const ttyEnv = env({ SRC: value, CI: 'false' });
    const plain = await sh('script', ['-qec', line([]), '/dev/null'], { env: ttyEnv });
    expect(plain.code, plain.stdout.toString()).toBe(0);
    expect(plain.stdout.toString()).toContain(`tty0 tty1 tty2 ${value}`);
    const masked = await sh('script', ['-qec', line(['--mask']), '/dev/null'], { env: ttyEnv });
    expect(masked.stdout.toString()).toContain('tty0 ***');
    expect(masked.stdout.toString()).not.toContain(value);
  });

  test('while the command runs, the values are in no argv and in no environment but the command\'s, under the variable asked for', async () => {
    const [asEnv, asFile, inNetrc] = [`env-${nonce()}`, `file-${nonce()}`, `netrc-${nonce()}`];
    const files = [asEnv, asFile, inNetrc].map((v, i) => {
      const f = join(box.dir, `v${i}-${nonce()}`);
      writeFileSync(f, v);
      return f;
    });
    const m = marker();
    const run = startCli(['exec', '--env', `T=file:${files[0]}`, '--secret', `id=s,from=file:${files[1]}`, '--netrc', `machine=h,login=u,password=file:${files[2]}`, '--', 'sleep', `3${m}`], { env: env() });
    try {
      await waitFor('the command to start', () => running('sleep', `3${m}`).length === 1, 20_000);
      const [child] = running('sleep', `3${m}`);
      expect(holders(asEnv)).toEqual(new Map([[child, { environ: [`T=${asEnv}`], cmdline: false }]]));
      expect(holders(asFile)).toEqual(new Map());
      expect(holders(inNetrc)).toEqual(new Map());
      // secbuild's watchdog: its environment is PATH alone.
      const watchdogs = pidsMatching('secbuild-watchdog').filter((p) => readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(run.child.pid));
      expect(watchdogs.length).toBe(1);
      expect(readFileSync(`/proc/${watchdogs[0]}/environ`, 'utf8').split('\0').filter(Boolean).map((e) => e.split('=')[0])).toEqual(['PATH']);
    } finally {
      run.child.kill('SIGTERM');
      await run.done;
    }
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s to secbuild: forwarded to the command, files removed, exit %i, no command left', async (signal, code) => {
    const m = marker();
    const run = startCli(['exec', '--secret', 'id=tok,from=env:SRC', '--', 'sleep', `3${m}`], { env: env({ SRC: `sig-${nonce()}` }) });
    await waitFor('the command to start', () => running('sleep', `3${m}`).length === 1, 20_000);
    expect(listDir(box.tmp).length).toBe(1);
    run.child.kill(signal);
    const r = await run.done;
    expect(r.code).toBe(code);
    expect(listDir(box.tmp)).toEqual([]);
    expect(running('sleep', `3${m}`)).toEqual([]);
  });

  test('SIGKILL of secbuild: the watchdog removes the files and stops the orphaned command within 5 s', async () => {
    const m = marker();
    const run = startCli(['exec', '--secret', 'id=tok,from=env:SRC', '--', 'sleep', `3${m}`], { env: env({ SRC: `kill-${nonce()}` }) });
    await waitFor('the command to start', () => running('sleep', `3${m}`).length === 1, 20_000);
    expect(listDir(box.tmp).length).toBe(1);
    run.child.kill('SIGKILL');
    await run.done;
    const files = await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
    const orphan = await waitFor('the orphaned command to stop', () => running('sleep', `3${m}`).length === 0, 5_000 - files);
    expect(files + orphan).toBeLessThan(5_000);
  });
});
