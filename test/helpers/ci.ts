/**
 * With CI=true every tier must run whole: a test that would skip itself for
 * want of something on the machine (root, a tool, a docker CLI) fails there
 * instead, naming what is missing, so a skip is never reported as a pass.
 * Elsewhere every skip prints one "WHAT SKIPPED: why" line, which
 * scripts/test.mjs repeats at the end of `npm test`.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, test } from 'vitest';

export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/** Is `tool` an executable in a directory of `env.PATH`? */
export function onPath(tool: string, env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What a test needs and the machine lacks (a sentence), or nothing. */
export type Missing = string | false | undefined;

/**
 * Throws in CI when `missing` names something the tests need; elsewhere says
 * `${what} SKIPPED: ${missing}` on stdout and returns true. `what` names the
 * tests that skip ("consumers: the curl cases").
 */
export function skipUnlessCI(missing: Missing, what: string): boolean {
  if (!missing) return false;
  if (inCI) throw new Error(`with CI=true this test cannot be skipped: ${missing}; .ci/provision.sh should provide it`);
  process.stdout.write(`${what} SKIPPED: ${missing}\n`);
  return true;
}

/**
 * `describe(name, body)`, unless `missing` names something the suite needs
 * (see skipUnlessCI). Then the body never runs: vitest runs the body of a
 * `describe.skipIf()` while collecting, so a fixture dereferenced there makes
 * the file fail to load, and a sandbox made there is never removed (its
 * afterAll does not run). In its place one skipped test names the reason.
 * `quiet`: the reason has been said already (the e2e tier's own skip).
 */
export function describeUnless(missing: Missing, name: string, body: () => void, opts: { what?: string; quiet?: boolean } = {}): void {
  if (!missing) return void describe(name, body);
  if (inCI || !opts.quiet) skipUnlessCI(missing, opts.what ?? name);
  test.skip(`${name} [${missing}]`, () => undefined);
}
