/**
 * The cli tier runs the built CLI (bin/secbuild.js → dist/) and nothing else:
 * no daemon, no docker binary (the tests that need one get the stand-in of
 * test/helpers/fake-docker.ts). All it needs is the build. Its teardown
 * removes what this run's tests left in SHM and the temp dir
 * (test/helpers/run-dirs.ts): a suite whose tests were all skipped on this
 * machine runs no afterAll.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { sweepRunDirs } from '../helpers/run-dirs.js';

export default function setup(project: TestProject): () => void {
  if (!existsSync(new URL('../../dist/secbuild.cjs', import.meta.url))) {
    throw new Error('the cli tier runs the built CLI, and dist/secbuild.cjs is missing: run npm run build (npm test and npm run test:cli do)');
  }
  const started = Date.now() - 1000;
  const run = randomBytes(3).toString('hex');
  project.provide('run', run);
  return () => sweepRunDirs(started, `secbuild-cli-${run}-`);
}
