import { describe, expect, test } from 'vitest';
import { parseOwner } from '../helpers/fixture-dirs.js';

describe('e2e fixture owner files', () => {
  // An sshd pid file read before sshd wrote it gave pid 0: the sweep's kill(-0) then
  // sent SIGTERM to its own process group, ending every later e2e run at setup.
  test('a pid of 0, 1, or not a number is never a daemon to stop (kill(-0) is the own process group)', () => {
    expect(parseOwner('9801\n0\n')).toEqual({ owner: 9801, pids: [] });
    expect(parseOwner('9801\n1 x -3 NaN 4242\n')).toEqual({ owner: 9801, pids: [4242] });
    expect(parseOwner('\n\n')).toEqual({ owner: 0, pids: [] });
  });
});
