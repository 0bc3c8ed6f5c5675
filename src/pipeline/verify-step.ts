/**
 * `secbuild build --verify`: after a successful build, search the image just
 * built for the build's own secrets (src/verify/scan.ts) and fail with exit 4
 * on a hit.
 *
 * The image is identified by the id docker writes with `--iidfile`, not by a
 * tag (a tag may be moved by a parallel build, or not be loaded at all): the
 * user's own `--iidfile` when given, else one in the run directory that
 * secbuild adds to docker's argv (removed with the run directory).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LeakError, UsageError } from '../util/errors.js';
import { info } from '../util/log.js';
import { patternsFor, tooShortToMask } from '../secrets/forms.js';
import type { Engine } from '../engines/engine.js';
import type { ChildEnv } from '../run/env.js';
import type { Report } from './report.js';
import type { Secret } from '../secrets/secret.js';
import { hitLines, summaryLine } from '../verify/format.js';
import { sourcesOf, verifyImage } from '../verify/scan.js';

/** The value of the user's `--iidfile` in docker's arguments, if any. */
export function userIidFile(dockerArgs: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < dockerArgs.length; i++) {
    const a = dockerArgs[i]!;
    if (a === '--iidfile') found = dockerArgs[++i];
    else if (a.startsWith('--iidfile=')) found = a.slice('--iidfile='.length);
  }
  return found;
}

/** Where docker writes the image id, and the arguments to add to docker's argv for it (none when the user gave one). */
export function iidFileFor(dockerArgs: readonly string[], runDir: string, cwd: string): { path: string; args: string[] } {
  const own = userIidFile(dockerArgs);
  if (own !== undefined) return { path: resolve(cwd, own), args: [] };
  const path = join(runDir, 'iid');
  return { path, args: ['--iidfile', path] };
}

export function readIid(path: string): string {
  let id: string;
  try {
    id = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new UsageError(`--verify: docker wrote no image id to ${path} (${(err as NodeJS.ErrnoException).code}), so there is no image to verify.`);
  }
  if (!id) throw new UsageError(`--verify: the image id file ${path} is empty, so there is no image to verify.`);
  return id;
}

/** Verifies the image just built; records the result in the report; throws LeakError on a hit. */
export async function verifyBuilt(opts: { engine: Engine; id: string; env: ChildEnv; values: readonly Secret[]; report: Report }): Promise<void> {
  const patterns = patternsFor(opts.values);
  if (patterns.length === 0) {
    info('verify: no secret of 4 bytes or more to search for; the image was not verified.');
    return;
  }
  info(`verify: searching ${opts.id} for ${opts.values.length === 1 ? 'the secret' : `${opts.values.length} secrets`}…`);
  const result = await verifyImage({ docker: opts.engine.bin, save: opts.engine.saveArgv, image: opts.id, env: opts.env, targets: { patterns, sources: sourcesOf(opts.values.filter((s) => !tooShortToMask(s.value))) } });
  opts.report.verify = result;
  for (const line of hitLines(result)) info(`verify: ${line}`);
  info(`verify: ${summaryLine(result)}`);
  if (!result.clean) {
    const places = result.hits.length === 1 ? '1 place' : `${result.hits.length} places`;
    throw new LeakError(
      `--verify: the image just built (${result.id}) holds secret values in ${places}, listed above. It is in the local image store: do not push it. Mount secrets instead of copying them into layers, ENV, LABEL or build-args (secbuild check shows the usual causes), then rebuild.`,
    );
  }
  if (result.unreadable.length > 0) throw new UsageError(`--verify: ${result.unreadable.length} blob(s) of ${result.id} could not be searched (listed above), so the image is not verified.`);
}
