/**
 * The e2e fixtures' orphan sweep signals the process groups of daemons a dead
 * run recorded. A pid of 0 (sshd's pid file read while still empty) made it
 * call process.kill(-0): the sweeping run's own process group, so a full test
 * run died silently right after "RUN" (found on this machine, 2026-12-06).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { claim, readClaim, startTime } from '../helpers/fixture-dirs.js';

const dir = mkdtempSync(join(tmpdir(), 'secbuild-unit-claim-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test.each([[[0]], [[1]], [[-5]], [[Number.NaN]], [[1234, 0]]])('claim() refuses %j: no process group but a daemon\'s is ever recorded', (pids) => {
  expect(() => claim(dir, pids)).toThrow(/not a list of daemon pids/);
});

test('readClaim() keeps only whole pids above 1 of a claim written before the guard', () => {
  writeFileSync(join(dir, 'owner'), '9801\n0 1 -3 x 4242\n');
  expect(readClaim(dir)).toMatchObject({ owner: 9801, pids: [4242] });
});

test('claim() records each daemon with its start time, which a reused pid would not match', () => {
  claim(dir, [process.pid]);
  const c = readClaim(dir)!;
  expect(c.pids).toEqual([process.pid]);
  expect(c.started.get(process.pid)).toBe(startTime(process.pid));
  expect(startTime(process.pid)).toMatch(/^\d+$/);
});
