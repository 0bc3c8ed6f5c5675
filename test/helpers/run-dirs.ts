/**
 * The sandboxes and build contexts a test run made (test/helpers/cli.ts names
 * them `secbuild-TIER-RUN-…`, in SHM and, for contexts and sandboxes where SHM
 * is noexec, in the temp dir) and did not remove: a suite that failed or timed
 * out before its afterAll, or one whose tests were all skipped (vitest then
 * runs none of its hooks). Each tier's teardown sweeps its own run's, created
 * since it started; a second run on the same machine keeps its own.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHM } from './cli.js';

export function sweepRunDirs(since: number, prefix: string): void {
  for (const dir of new Set([SHM, tmpdir()])) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      const path = join(dir, name);
      try {
        if (statSync(path).ctimeMs >= since) rmSync(path, { recursive: true, force: true });
      } catch {
        // gone already
      }
    }
  }
}
