/**
 * `secbuild verify [secret flags] [--engine docker|podman] [--docker PATH] [--format text|json] IMAGE`:
 * resolves the secrets a build with the same flags would get and searches the
 * local image for them (src/verify/scan.ts). Exit 0 when nothing is found,
 * 4 when a secret is found, 2 when the image cannot be read or searched whole.
 */
import { addressDaemon } from '../../engines/docker/daemon.js';
import { chooseEngine } from '../../engines/select.js';
import { LeakError, UsageError } from '../../util/errors.js';
import { info, warn, masked } from '../../util/log.js';
import { patternsFor, tooShortToMask } from '../../secrets/forms.js';
import { planSpecs } from '../../secrets/plan.js';
import { resolveMasked } from '../../pipeline/resolve-step.js';
import { parseVerifyArgs, verifyHelp } from '../../args/verify.js';
import { jsonReport, textReport } from '../../verify/format.js';
import { sourcesOf, verifyImage } from '../../verify/scan.js';

export async function verifyCommand(argv: readonly string[]): Promise<void> {
  const args = parseVerifyArgs(argv);
  if (args.help) {
    process.stdout.write(verifyHelp());
    return;
  }
  if (!args.image) throw new UsageError('secbuild verify needs an image: secbuild verify [--secret SPEC …] IMAGE (a tag or an image id).');
  const env = process.env;
  const plan = await planSpecs(args, env, process.cwd());
  const engine = await chooseEngine(args, env);
  // --context / -H: inspect, save and history ask that daemon.
  const childEnv = addressDaemon(engine.name, plan.childEnv, args);
  // The image is the daemon's: no daemon, nothing to verify — said before any provider runs.
  await engine.requireDaemon?.(childEnv);
  // The secrets resolve while docker save starts (src/verify/scan.ts).
  const targets = async () => {
    const resolution = await resolveMasked(plan.specs, { env, childEnv: plan.childEnv });
    for (const s of resolution.skipped) info(`optional secret "${s.id}" (${s.source}) is not provided, so it is not searched for: ${s.reason}`);
    for (const s of resolution.values) {
      if (tooShortToMask(s.value)) warn(`secret "${s.id}" is shorter than 4 bytes and is not searched for.`);
    }
    const patterns = patternsFor(resolution.values);
    if (patterns.length === 0) {
      throw new UsageError('there is no secret of 4 bytes or more to search for; give the build\'s secrets with --secret, --netrc, --npmrc or a secbuild.yml.');
    }
    // Only what is searched for is named in the summary: a value too short to search is left out.
    return { patterns, sources: sourcesOf(resolution.values.filter((s) => !tooShortToMask(s.value))) };
  };
  const result = await verifyImage({ docker: engine.bin, save: engine.saveArgv, image: args.image, env: childEnv, targets });
  process.stdout.write(masked(args.format === 'json' ? jsonReport(result) : textReport(result)));
  if (!result.clean) throw new LeakError(`${args.image} holds secret values (listed above).`, { reported: true });
  if (result.unreadable.length > 0) throw new UsageError(`${args.image} could not be searched whole (listed above).`, { reported: true });
}
