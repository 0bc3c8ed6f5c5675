/**
 * Cleanup never blocks (src/run/remove.ts), seen from the built CLI with real
 * commands and no docker: whatever a command under `secbuild exec` leaves in
 * $SECBUILD_SECRETS — a FIFO first of all — secbuild ends within a bound,
 * answers signals, and leaves no directory; a stale run directory holding a
 * FIFO is swept by the next run and by `secbuild clean` like any other; and
 * the watchdog, after a SIGKILL of secbuild, removes it with the same removal
 * (zeros over the secret included). Every run is killed at the bound, so a
 * removal that blocks fails the test instead of hanging the suite.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeEach, describe, expect, test } from 'vitest';
import { deadPid } from '../helpers/dead-pid.js';
import { listDir, noDockerEnv, nonce, pidsMatching, sandbox, startCli, waitFor, type RunResult, type Sandbox } from '../helpers/cli.js';

/** Far more than any of these runs takes (well under a second each). */
const BOUND_MS = 10_000;

/** Runs the CLI, SIGKILLed at BOUND_MS: its result, or 'blocked'. */
async function bounded(args: string[], env: NodeJS.ProcessEnv, during?: (child: ReturnType<typeof startCli>['child']) => Promise<void>): Promise<RunResult | 'blocked'> {
  const run = startCli(args, { env });
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'blocked'>((resolve) => {
    timer = setTimeout(() => {
      run.child.kill('SIGKILL');
      resolve('blocked');
    }, BOUND_MS);
  });
  if (during) void during(run.child);
  const r = await Promise.race([run.done, limit]);
  clearTimeout(timer);
  return r;
}

describe('cleanup never blocks (real commands, no docker)', () => {
  // Each test its own secret root: a directory one test leaves (before the fix) cannot block the next.
  const boxes: Sandbox[] = [];
  let box: Sandbox;
  beforeEach(() => {
    box = sandbox();
    boxes.push(box);
  });
  afterAll(() => {
    for (const b of boxes) b.cleanup();
  });
  const env = (extra: NodeJS.ProcessEnv = {}) => noDockerEnv(box, extra);
  const secretArgs = ['--secret', 'id=x,from=env:X'];

  test('exec -- sh -c \'mkfifo "$SECBUILD_SECRETS/p"\': secbuild ends within the bound, exit 0, no directory left', async () => {
    const r = await bounded(['exec', ...secretArgs, '--', 'sh', '-c', 'mkfifo "$SECBUILD_SECRETS/p"'], env({ X: `fifo-${nonce()}` }));
    expect(r, 'secbuild was still removing the run directory at the bound').not.toBe('blocked');
    expect((r as RunResult).code, (r as RunResult).stderr).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a command that leaves a FIFO, a FIFO in an unreadable directory, a read-only secret and a symlink out: all removed, the symlink\'s target untouched', async () => {
    const victim = join(box.dir, `victim-${nonce()}`);
    writeFileSync(victim, 'untouched');
    const script = [
      'cd "$SECBUILD_SECRETS"',
      'mkfifo p',
      'mkdir -p deep/er && mkfifo deep/er/q && chmod 000 deep/er deep',
      `ln -s ${victim} out`,
      'chmod 400 x',
    ].join(' && ');
    const r = await bounded(['exec', ...secretArgs, '--', 'sh', '-c', script], env({ X: `mixed-${nonce()}` }));
    expect(r).not.toBe('blocked');
    expect((r as RunResult).code, (r as RunResult).stderr).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
  });

  test('SIGTERM while secbuild removes a run directory holding a FIFO is not ignored: secbuild ends within the bound, no directory left', async () => {
    const flag = join(box.dir, `made-${nonce()}`);
    const r = await bounded(['exec', ...secretArgs, '--', 'sh', '-c', `mkfifo "$SECBUILD_SECRETS/p"; touch ${flag}`], env({ X: `term-${nonce()}` }), async (child) => {
      await waitFor('the command to make its FIFO', () => existsSync(flag), BOUND_MS);
      await new Promise((resolve) => setTimeout(resolve, 200));
      child.kill('SIGTERM');
    });
    expect(r, 'secbuild did not end after SIGTERM').not.toBe('blocked');
    // Ended either before the signal arrived (0) or by it (143): never waiting on the FIFO.
    expect([0, 143]).toContain((r as RunResult).code);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a process the command left behind, still writing files into $SECBUILD_SECRETS: no directory left', async () => {
    const script = '(i=0; while [ $i -lt 100000 ]; do : > "$SECBUILD_SECRETS/f$i" || exit; i=$((i+1)); done) </dev/null >/dev/null 2>&1 & sleep 0.3';
    const r = await bounded(['exec', ...secretArgs, '--', 'sh', '-c', script], env({ X: `writer-${nonce()}` }));
    expect(r).not.toBe('blocked');
    expect((r as RunResult).code, (r as RunResult).stderr).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
  });

  describe('a stale run directory holding a FIFO (its run dead) is swept like any other', () => {
    const stale = (): string => {
      const name = `secbuild-${deadPid()}-F1f0${nonce().slice(-2)}`;
      const path = join(box.tmp, name);
      mkdirSync(path, { mode: 0o700 });
      writeFileSync(join(path, '00-tok'), 'left behind');
      spawnSync('mkfifo', [join(path, 'p')]);
      expect(lstatSync(join(path, 'p')).isFIFO()).toBe(true);
      const past = new Date(Date.now() - 60_000);
      utimesSync(path, past, past);
      return name;
    };

    test('by the next run', async () => {
      stale();
      const r = await bounded(['exec', ...secretArgs, '--', 'true'], env({ X: `next-${nonce()}` }));
      expect(r, 'the next run was still sweeping at the bound').not.toBe('blocked');
      expect((r as RunResult).code, (r as RunResult).stderr).toBe(0);
      expect(listDir(box.tmp)).toEqual([]);
    });

    test('by secbuild clean', async () => {
      const name = stale();
      const r = await bounded(['clean'], env());
      expect(r, 'secbuild clean was still sweeping at the bound').not.toBe('blocked');
      expect((r as RunResult).code, (r as RunResult).stderr).toBe(0);
      expect((r as RunResult).stderr).toContain(`removed 1 stale run directory from ${box.tmp}: ${name}`);
      expect(listDir(box.tmp)).toEqual([]);
    });
  });

  test('SIGKILL of secbuild: the watchdog removes a run directory holding a FIFO with the same removal — the secret is zeroed (seen through a hard link) — within 5 s', async () => {
    // Beside the secret root, on its file system: a hard link cannot cross to box.dir where SHM is noexec.
    const link = join(dirname(box.tmp), `link-${nonce()}`);
    const flag = join(box.dir, `ready-${nonce()}`);
    const value = `watchdog-${nonce()}`;
    const run = startCli(['exec', ...secretArgs, '--', 'sh', '-c', `ln "$SECBUILD_SECRETS/x" ${link} && mkfifo "$SECBUILD_SECRETS/p" && touch ${flag} && exec sleep 30`], { env: env({ X: value }) });
    try {
      await waitFor('the command to start', () => existsSync(flag), BOUND_MS);
      expect(readFileSync(link, 'utf8')).toBe(value);
      run.child.kill('SIGKILL');
      await run.done;
      await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
      expect(readFileSync(link)).toEqual(Buffer.alloc(value.length));
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  test('exec --secret id=reap (a name the watchdog reads as podman\'s cleanup script) is refused before anything is written (exit 2)', async () => {
    const r = await bounded(['exec', '--secret', 'id=reap,from=env:X', '--', 'true'], env({ X: 'echo never run as a script' }));
    expect(r).not.toBe('blocked');
    expect((r as RunResult).code).toBe(2);
    expect((r as RunResult).stderr).toContain('secret id "reap" names reap, which secbuild keeps for its own files in the run directory; choose another id.');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('SIGKILL of secbuild when the command planted a reap script that never ends: the watchdog still removes the directory (the script is stopped after 10 s)', async () => {
    const flag = join(box.dir, `ready-${nonce()}`);
    const forever = `36${Math.floor(Math.random() * 90000) + 10000}`;
    const run = startCli(['exec', ...secretArgs, '--', 'sh', '-c', `printf 'exec sleep ${forever}\\n' > "$SECBUILD_SECRETS/reap" && touch ${flag} && exec sleep 30`], { env: env({ X: `reap-${nonce()}` }) });
    try {
      await waitFor('the command to start', () => existsSync(flag), BOUND_MS);
      run.child.kill('SIGKILL');
      await run.done;
      await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 15_000);
    } finally {
      run.child.kill('SIGKILL');
      for (const pid of pidsMatching(`sleep ${forever}`)) process.kill(pid, 'SIGKILL');
    }
  }, 30_000);
});
