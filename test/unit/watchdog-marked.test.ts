/**
 * The watchdog stops what secbuild started even when it was never told the
 * pid: a SIGKILL of secbuild between spawn() returning and the `pid N` line
 * being written (CI run of 2026-12-06: the orphaned `sleep` under `exec` was
 * left running). Every child started while a watchdog runs carries the run's
 * mark in its environment (src/run/exec.ts), and on EOF without `done` the
 * watchdog stops every process of the user that carries it — grandchildren
 * included. Here the pipe is closed without `done`, which is what a SIGKILL
 * of secbuild does to it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { setWatcher, start } from '../../src/run/exec.js';
import { RUN_MARK_VAR, runMark } from '../../src/run/mark.js';
import { scrubEnv } from '../../src/run/env.js';
import { Watchdog } from '../../src/run/watchdog.js';

/** Running, not a zombie (a zombie's cmdline is empty). */
const alive = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`).length > 0;
  } catch {
    return false;
  }
};
const exited = (c: ChildProcess) => new Promise<NodeJS.Signals | null>((r) => c.once('exit', (_code, sig) => r(sig)));
const closePipe = (dog: Watchdog) => (dog as unknown as { pipe: Writable }).pipe.end();
const dogExited = (dog: Watchdog) => new Promise((r) => (dog as unknown as { child: ChildProcess }).child.once('exit', r));

describe('the watchdog and the run mark', () => {
  test('a child (and its child) it was never told of, carrying the mark, is stopped when the pipe closes without done', async () => {
    const dir = mkdtempSync(join('/dev/shm', 'secbuild-unit-dog-'));
    const dog = Watchdog.start(dir)!;
    // Not through the exec seam: spawned and never announced, as in the window before `pid N` is written.
    const child = spawn('sh', ['-c', 'sleep 300 & echo $!; wait'], { env: { PATH: process.env.PATH!, [RUN_MARK_VAR]: runMark() }, stdio: ['ignore', 'pipe', 'ignore'] });
    const grandchild = await new Promise<number>((r) => child.stdout!.once('data', (d) => r(Number(String(d).trim()))));
    const unmarked = spawn('sleep', ['300'], { env: { PATH: process.env.PATH! }, stdio: 'ignore' });
    try {
      expect(alive(grandchild)).toBe(true);
      const [sig] = await Promise.all([exited(child), dogExited(dog), closePipe(dog)]);
      expect(sig).toBe('SIGTERM');
      expect(existsSync(dir)).toBe(false);
      expect(alive(grandchild)).toBe(false);
      expect(unmarked.exitCode === null && unmarked.signalCode === null).toBe(true);
    } finally {
      child.kill('SIGKILL');
      unmarked.kill('SIGKILL');
    }
  });

  test('the exec seam marks a child only while a watcher runs, and the mark is not the watchdog\'s environment', async () => {
    const env = scrubEnv({ PATH: process.env.PATH }, new Set());
    const read = async (): Promise<string> => {
      const c = start('sh', ['-c', `printf %s "\${${RUN_MARK_VAR}-unset}"`], { env, stdio: ['ignore', 'pipe', 'ignore'], signals: 'kill' });
      let out = '';
      c.stdout!.on('data', (d) => (out += d));
      await new Promise((r) => c.once('close', r));
      return out;
    };
    expect(await read()).toBe('unset');
    const dog = Watchdog.start('')!;
    setWatcher(dog);
    try {
      expect(await read()).toBe(runMark());
      expect(runMark()).toMatch(/^[0-9a-z.-]{12,}$/);
    } finally {
      setWatcher(undefined);
      dog.release();
    }
  });
});
