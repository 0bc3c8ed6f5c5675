/**
 * The exit map (src/util/errors.ts exitCodeOf): each outcome's code, and a
 * bug in secbuild (anything untyped) on a code no docker build, typed error
 * or signal uses — 70, EX_SOFTWARE of sysexits.h — so that 1 is always
 * docker's (or the exec'd command's) own failure, never secbuild's.
 */
import { describe, expect, test } from 'vitest';
import { DockerExit, ExitCode, exitCodeOf, isInternal, LeakError, ResolveError, SignalExit, UsageError } from '../../src/util/errors.js';
import { DaemonUnreachableError } from '../../src/engines/docker/reach.js';

describe('exitCodeOf', () => {
  test.each<[string, unknown, number]>([
    ['success', undefined, 0],
    ['usage', new UsageError('x'), 2],
    ['no daemon reachable', new DaemonUnreachableError('x'), 2],
    ['a secret not resolved', new ResolveError('x'), 3],
    ['a leak', new LeakError('x'), 4],
    ["docker's own 1, passed through", new DockerExit(1), 1],
    ["docker's own 17, passed through", new DockerExit(17), 17],
    ['a signal', new SignalExit('SIGINT'), 130],
    ['commander: unknown option', { code: 'commander.unknownOption', exitCode: 1 }, 2],
    ['a bug: a TypeError', new TypeError('x is undefined'), 70],
    ['a bug: a thrown string', 'oops', 70],
  ])('%s', (_, outcome, code) => {
    expect(exitCodeOf(outcome)).toBe(code);
  });

  test('the internal code is its own: no typed outcome maps to it, and only untyped ones are internal', () => {
    expect(ExitCode.internal).toBe(70);
    expect(Object.entries(ExitCode).filter(([, v]) => v === ExitCode.internal).map(([k]) => k)).toEqual(['internal']);
    expect(isInternal(new TypeError('x'))).toBe(true);
    expect(isInternal(new DockerExit(1))).toBe(false);
  });
});
