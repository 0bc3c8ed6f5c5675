/**
 * With CI=true every tier must run whole: a test that would skip itself for
 * want of something on the machine (root, a tool, a docker CLI) fails there
 * instead, naming what is missing, so a skip is never reported as a pass.
 */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/** Throws in CI when `missing` names something the tests need; elsewhere returns whether to skip. */
export function skipUnlessCI(missing: string | false | undefined): boolean {
  if (!missing) return false;
  if (inCI) throw new Error(`with CI=true this test cannot be skipped: ${missing}; .ci/provision.sh should provide it`);
  return true;
}
