/**
 * The cli tier runs the built CLI (bin/secbuild.js → dist/) and nothing else:
 * no daemon, no docker binary (the tests that need one get the stand-in of
 * test/helpers/fake-docker.ts). All it needs is the build.
 */
import { existsSync } from 'node:fs';

export default function setup(): void {
  if (!existsSync(new URL('../../dist/secbuild.cjs', import.meta.url))) {
    throw new Error('the cli tier runs the built CLI, and dist/secbuild.cjs is missing: run npm run build (npm test and npm run test:cli do)');
  }
}
