/**
 * The steps build and compose share once secrets are resolved: say which
 * optional secrets are absent and whether the files are memory-backed, decide
 * on masking, register the masks with GitHub Actions, and (for --dry-run) name
 * the files a real run would write.
 */
import { isatty } from 'node:tty';
import type { BuildArgs } from '../args/build.js';
import { addMaskCommands } from '../guards/github.js';
import { inCI } from '../util/ci.js';
import { info, warn, workflowCommands } from '../util/log.js';
import { patternsFor, tooShortToMask, type Pattern } from '../secrets/forms.js';
import type { Resolution } from '../secrets/resolve.js';
import { RUN_PREFIX, secretFileName, type RootChoice, type SecretFile } from '../run/rundir.js';
import type { Secret } from '../secrets/secret.js';

/**
 * Masking is on when output goes to a log (not a terminal), in CI even on a
 * terminal (Buildkite, CircleCI, Jenkins with a pty, `docker run -t` jobs keep
 * their logs; `ci-info` knows the CI systems, loaded only in that case), or
 * when forced. On a person's terminal it is off, and one line says so.
 */
export async function maskingWanted(args: Pick<BuildArgs, 'mask' | 'noMask'>): Promise<boolean> {
  if (args.noMask) return false;
  if (args.mask || !(process.stdout.isTTY && process.stderr.isTTY)) return true;
  if (await inCI()) return true;
  info('masking is off: output goes to this terminal (--mask turns it on).');
  return false;
}

export async function prepareOutput(
  resolution: Resolution,
  root: RootChoice,
  args: Pick<BuildArgs, 'mask' | 'noMask'>,
  gha: boolean,
): Promise<{ masking: boolean; patterns: Pattern[]; terminalIsLog: boolean }> {
  for (const s of resolution.skipped) info(`optional secret "${s.id}" (${s.source}) is not provided: ${s.reason}`);
  if (!root.memoryBacked) {
    warn(`secret files go to ${root.root}, which is not memory-backed (tmpfs); they are removed after the build. Use --require-tmpfs to refuse this.`);
  }
  const masking = await maskingWanted(args);
  const patterns = masking || gha ? patternsFor(resolution.values) : [];
  // The runner hides these lines and masks the values in every later line of the job (on stderr: src/util/log.ts).
  if (gha) workflowCommands(addMaskCommands(patterns));
  for (const s of resolution.values) {
    if (masking && tooShortToMask(s.value)) warn(`secret "${s.id}" is shorter than 4 bytes and is not masked in the output.`);
  }
  // In CI a terminal is a log: a child whose output is masked gets no terminal to write to past the masking.
  // isatty(0), not process.stdin: that getter opens a stream on fd 0 (on /dev/null, a file stream and fs/promises: ~2 ms).
  const terminal = Boolean(isatty(0) || process.stdout.isTTY || process.stderr.isTTY);
  return { masking, patterns, terminalIsLog: masking && terminal && (await inCI()) };
}

/** For --dry-run: the run directory and files a real run would create (the directory's suffix is random). */
export function plannedFiles(
  root: string,
  secrets: readonly Secret[],
  cache: (id: string) => string = () => 'stable',
  name: (id: string, index: number) => string = secretFileName,
): { dir: string; files: SecretFile[] } {
  const dir = `${root}/${RUN_PREFIX}${process.pid}-XXXXXX`;
  for (const s of secrets) info(`secret "${s.id}" from ${s.source}: ${s.bytes} bytes, cache=${cache(s.id)}`);
  return { dir, files: secrets.map((s, i) => ({ id: s.id, path: `${dir}/${name(s.id, i)}` })) };
}
