/**
 * `secbuild verify [secret flags] [--engine docker|podman] [--docker PATH] [--format text|json] IMAGE`:
 * resolves the secrets a build with the same flags would get and searches the
 * local image for them (src/verify/scan.ts). With `--archive FILE` instead of
 * IMAGE it searches an image archive on disk (src/verify/output.ts) and no
 * engine is chosen or asked: a machine without docker can verify. Exit 0 when
 * nothing is found, 4 when a secret is found, 2 when the image (or archive)
 * cannot be read or searched whole, or when there is nothing to search for
 * (no secret, or only values under 4 bytes): verify never calls an image
 * clean without having searched it.
 */
import { addressDaemon } from '../../engines/docker/daemon.js';
import { chooseEngine } from '../../engines/select.js';
import { LeakError, UsageError } from '../../util/errors.js';
import { info, warn, masked } from '../../util/log.js';
import { patternsFor, tooShortToMask } from '../../secrets/forms.js';
import { planSpecs } from '../../secrets/plan.js';
import { resolveMasked } from '../../pipeline/resolve-step.js';
import { parseVerifyArgs, verifyHelp, type VerifyArgs } from '../../args/verify.js';
import type { ChildEnv } from '../../run/env.js';
import { jsonReport, textReport } from '../../verify/format.js';
import { verifyArchive } from '../../verify/output.js';
import { sourcesOf, verifyImage, type SearchTargets, type VerifyResult } from '../../verify/scan.js';

const NOTHING_TO_SEARCH = "verify searched nothing: there is no secret of 4 bytes or more to search for; give the build's secrets with --secret, --netrc, --npmrc or a secbuild.yml.";

export async function verifyCommand(argv: readonly string[]): Promise<void> {
  const args = parseVerifyArgs(argv);
  if (args.help) {
    process.stdout.write(verifyHelp());
    return;
  }
  if (!args.image && args.archive === undefined) throw new UsageError('secbuild verify needs an image: secbuild verify [--secret SPEC …] IMAGE (a tag or an image id), or --archive FILE.');
  const env = process.env;
  const plan = await planSpecs(args, env, process.cwd());
  // No secret at all: said before any engine is asked or docker save started.
  if (plan.specs.length === 0) throw new UsageError(NOTHING_TO_SEARCH);
  const targets = async (): Promise<SearchTargets> => {
    const resolution = await resolveMasked(plan.specs, { env, childEnv: plan.childEnv });
    for (const s of resolution.skipped) info(`optional secret "${s.id}" (${s.source}) is not provided, so it is not searched for: ${s.reason}`);
    for (const s of resolution.values) {
      if (tooShortToMask(s.value)) warn(`secret "${s.id}" is shorter than 4 bytes and is not searched for.`);
    }
    const patterns = patternsFor(resolution.values);
    if (patterns.length === 0) {
      throw new UsageError(NOTHING_TO_SEARCH);
    }
    // Only what is searched for is named in the summary: a value too short to search is left out.
    return { patterns, sources: sourcesOf(resolution.values.filter((s) => !tooShortToMask(s.value))) };
  };
  const result = args.archive !== undefined
    // A file: no engine is chosen, no daemon asked; the secrets resolve once the file is known to be one.
    ? await verifyArchive(args.archive, targets)
    : await verifyStored(args, args.image!, plan.childEnv, targets);
  process.stdout.write(masked(args.format === 'json' ? jsonReport(result) : textReport(result)));
  if (!result.clean) throw new LeakError(`${result.image} holds secret values (listed above).`, { reported: true });
  if (result.unreadable.length > 0) throw new UsageError(`${result.image} could not be searched whole (listed above).`, { reported: true });
}

/** An image in the engine's store: that daemon must answer (said before any provider runs); the secrets resolve while docker save starts (src/verify/scan.ts). */
async function verifyStored(args: VerifyArgs, image: string, planEnv: ChildEnv, targets: () => Promise<SearchTargets>): Promise<VerifyResult> {
  const engine = await chooseEngine(args, process.env);
  // --context / -H: inspect, save and history ask that daemon.
  const childEnv = addressDaemon(engine.name, planEnv, args);
  await engine.requireDaemon?.(childEnv);
  return verifyImage({ docker: engine.bin, save: engine.saveArgv, socket: engine.archiveSocket?.(childEnv), image, env: childEnv, targets });
}
