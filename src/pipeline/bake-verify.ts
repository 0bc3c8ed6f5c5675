/**
 * `secbuild bake --verify`: each target's image, in the local image store of
 * the builder's daemon, searched for the run's secrets after the bake (exit 4
 * naming the target on a hit; src/pipeline/verify-step.ts verifyBuilt).
 *
 * The images are found by the ids bake writes to `--metadata-file` (the
 * user's, else one in the run directory): with the docker driver,
 * `containerimage.digest` is the local image id (../shared/recipes section D),
 * never a tag that another build may move. Results that cannot be searched are
 * refused before the bake, never called clean: --push, a target with its own
 * `output`, a builder other than the docker driver.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lastFlagValue } from '../engines/docker/argv.js';
import type { BakeTarget } from '../engines/docker/bake.js';
import { builderDaemonEnv, inspectBuilder } from '../engines/docker/builder.js';
import type { ChildEnv } from '../run/env.js';
import { UsageError } from '../util/errors.js';
import type { Built } from './verify-step.js';

export interface BakeVerifyPlan {
  env?: ChildEnv;
}

export async function planBakeVerify(docker: string, bakeArgs: readonly string[], targets: readonly BakeTarget[], env: ChildEnv): Promise<BakeVerifyPlan> {
  if (bakeArgs.includes('--push')) throw new UsageError('--verify cannot search images that bake pushes (--push): drop --push, verify, then push. Nothing was built.');
  if (bakeArgs.includes('--print')) throw new UsageError('--verify with --print: bake builds nothing to verify; drop one.');
  const own = targets.filter((t) => t.output.length > 0).map((t) => `"${t.name}"`);
  if (own.length > 0) throw new UsageError(`--verify cannot search the output of target ${own.join(', ')} yet (its output = […]); drop --verify or the output. Nothing was built.`);
  const builder = await inspectBuilder(docker, bakeArgs, env);
  if (builder.driver !== 'docker') throw new UsageError(`--verify: builder "${builder.name}" (driver ${builder.driver}) does not put images in a daemon's store that secbuild can read by id; use the default docker-driver builder. Nothing was built.`);
  const daemon = builderDaemonEnv(builder, env);
  return daemon ? { env: daemon } : {};
}

/** The words to add to bake's argv (a --metadata-file in the run directory unless the user gave one), and each target's image once bake is done. */
export function startBakeVerify(plan: BakeVerifyPlan, bakeArgs: readonly string[], targets: readonly BakeTarget[], runDir: string, cwd: string): { args: string[]; built(): Built } {
  const user = lastFlagValue(bakeArgs, '--metadata-file');
  const path = user !== undefined ? resolve(cwd, user) : join(runDir, 'bake-metadata.json');
  return {
    args: user !== undefined ? [] : ['--metadata-file', path],
    built() {
      let meta: Record<string, Record<string, unknown>>;
      try {
        meta = JSON.parse(readFileSync(path, 'utf8'));
      } catch (err) {
        throw new UsageError(`--verify: bake wrote no readable metadata to ${path} (${(err as NodeJS.ErrnoException).code ?? 'not JSON'}), so there is no image to verify.`);
      }
      return targets.map((t) => {
        const id = meta[t.name]?.['containerimage.digest'];
        if (typeof id !== 'string' || !id) throw new UsageError(`--verify: bake's metadata names no image for target "${t.name}", so it is not verified.`);
        return { kind: 'image' as const, id, label: `target "${t.name}"`, target: t.name, ...(plan.env ? { env: plan.env } : {}) };
      });
    },
  };
}
