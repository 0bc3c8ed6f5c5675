/**
 * The exec seam's `capture` (src/run/exec.ts): its timeout bounds the whole
 * call, also when the command has ended but left a process behind that holds
 * its output pipe (`cmd:sh -c 'daemon & printf v'`, a store CLI starting a
 * helper): shells wait for such a pipe to close, and so did capture, for as
 * long as that process lived.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { capture } from '../../src/run/exec.js';
import { minimalEnv } from '../../src/run/env.js';

/** The pids of this test's own process (its command line holds a random marker). */
const pids = (marker: string) => {
  try {
    return execFileSync('pgrep', ['-f', `^${marker}$`]).toString().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

describe('capture: the timeout bounds the whole call', () => {
  test.each([true, false])('a command that leaves a process holding its stdout (noTerminal %s): ends at the timeout, not when that process does', async (noTerminal) => {
    const marker = `${Math.floor(Math.random() * 90000) + 10000}`;
    const started = Date.now();
    const r = await capture('sh', ['-c', `(sleep 4${marker} &); printf v`], { env: minimalEnv({ PATH: process.env.PATH }), timeoutMs: 500, noTerminal });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(r.timedOut).toBe(true);
    // In its own session (noTerminal) the whole group is stopped; otherwise it is left, no longer waited for.
    const left = pids(`sleep 4${marker}`);
    left.forEach((pid) => process.kill(pid));
    if (noTerminal) expect(left).toEqual([]);
  }, 20_000);
});
