/**
 * `secbuild build --verify`: after a successful build, search what it produced
 * for the build's own secrets and fail with exit 4 on a hit.
 *
 * What it produced is read from docker's flags and the builder
 * (src/engines/docker/outputs.ts, ./builder.ts): an image in a daemon's store
 * (searched through `docker save`, src/verify/scan.ts), an image archive, a
 * directory or a tar the build wrote (src/verify/output.ts). A result that
 * cannot be searched (`--push`, `-o -`, a docker-container builder without
 * --load) is refused in one line before the build, never called clean.
 *
 * The image is identified by the id docker writes with `--iidfile`, not by a
 * tag (a tag may be moved by a parallel build, or not be loaded at all): the
 * user's own `--iidfile` when given, else one in the run directory that
 * secbuild adds to docker's argv (removed with the run directory). For a
 * docker-driver builder whose endpoint is another context, the image is
 * looked up on that daemon.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LeakError, UsageError } from '../util/errors.js';
import { info } from '../util/log.js';
import { patternsFor, tooShortToMask } from '../secrets/forms.js';
import type { Engine } from '../engines/engine.js';
import { lastFlagValue } from '../engines/docker/argv.js';
import { builderDaemonEnv, inspectBuilder } from '../engines/docker/builder.js';
import { producedBy, type Produced } from '../engines/docker/outputs.js';
import type { ChildEnv } from '../run/env.js';
import type { Report } from './report.js';
import type { Secret } from '../secrets/secret.js';
import { hitLines, summaryLine } from '../verify/format.js';
import { sourcesOf, verifyImage, type SearchTargets, type VerifyResult } from '../verify/scan.js';
import { verifyOutput, type OutputTarget } from '../verify/output.js';

/** What a build produced, for --verify: images by id (on `env`'s daemon when given), and files. */
export type Built = Array<({ kind: 'image'; id: string; env?: ChildEnv; /** Names the image in messages (bake: `target "api"`). */ label?: string } | OutputTarget) & {
  /** bake: the target that built it; its result goes to that target's entry of the report, not to the run's one `verify`. */
  target?: string;
}>;

/** What --verify will search, decided before the build. */
export interface VerifyPlan {
  produced: Exclude<Produced, { kind: 'none' }>[];
  /** The daemon of a docker-driver builder whose endpoint the child environment does not reach already. */
  env?: ChildEnv;
}

/**
 * Decides what --verify searches after this build; throws a one-line
 * UsageError, before anything is built, when a result cannot be searched.
 * `buildx`: `docker build` is buildx, so the builder is asked where results go.
 */
export async function planVerify(engine: Engine, buildx: boolean, dockerArgs: readonly string[], env: ChildEnv, cwd: string): Promise<VerifyPlan> {
  const builder = engine.name === 'docker' && buildx ? await inspectBuilder(engine.bin, dockerArgs, env) : undefined;
  const produced: VerifyPlan['produced'] = [];
  for (const p of producedBy(dockerArgs, builder, cwd)) {
    if (p.kind === 'none') throw new UsageError(`--verify cannot search the result: ${p.why}. Nothing was built.`);
    produced.push(p);
  }
  const daemon = builder && builderDaemonEnv(builder, env);
  return daemon ? { produced, env: daemon } : { produced };
}

/** The words to add to docker's argv (an --iidfile when an image is to be searched), and how to read the result once docker is done. */
export function startVerify(plan: VerifyPlan, dockerArgs: readonly string[], runDir: string, cwd: string): { args: string[]; built(): Built } {
  const iid = plan.produced.some((p) => p.kind === 'image') ? iidFileFor(dockerArgs, runDir, cwd) : undefined;
  return {
    args: iid?.args ?? [],
    built: () => plan.produced.map((p) => (p.kind === 'image' ? { kind: 'image' as const, id: readIid(iid!.path), ...(plan.env ? { env: plan.env } : {}) } : { kind: p.kind, path: p.path, flag: p.flag })),
  };
}

/** The value of the user's `--iidfile` in docker's arguments, if any. */
export const userIidFile = (dockerArgs: readonly string[]): string | undefined => lastFlagValue(dockerArgs, '--iidfile');

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

/** A build's result is the report's `verify`; a bake target's is its own entry's, one per target. */
function recordVerify(report: Report, target: string | undefined, result: VerifyResult): void {
  if (target === undefined) {
    report.verify = result;
    return;
  }
  report.targets ??= [];
  const entry = report.targets.find((e) => e.target === target);
  if (entry) entry.verify = result;
  else report.targets.push({ target, secrets: [], verify: result });
}

/** Verifies what the build produced; records the result in the report; throws LeakError on a hit. */
export async function verifyBuilt(opts: { engine: Engine; built: Built; env: ChildEnv; values: readonly Secret[]; report: Report }): Promise<void> {
  const patterns = patternsFor(opts.values);
  if (patterns.length === 0) {
    // Exit 0: the build had no value that could leak and be found (`secbuild verify` says 2: it searched nothing).
    info('verify: the image was not searched: the build has no secret of 4 bytes or more (none given, or all shorter), so there is nothing that could leak into it to look for.');
    return;
  }
  const targets: SearchTargets = { patterns, sources: sourcesOf(opts.values.filter((s) => !tooShortToMask(s.value))) };
  for (const t of opts.built) {
    info(`verify: searching ${t.kind === 'image' ? `${t.label ? `${t.label} ` : ''}${t.id}` : t.path} for ${opts.values.length === 1 ? 'the secret' : `${opts.values.length} secrets`}…`);
    const result: VerifyResult = t.kind === 'image'
      ? await verifyImage({ docker: opts.engine.bin, save: opts.engine.saveArgv, socket: opts.engine.archiveSocket?.(t.env ?? opts.env), image: t.id, env: t.env ?? opts.env, targets })
      : await verifyOutput(t, targets);
    recordVerify(opts.report, t.target, result);
    for (const line of hitLines(result)) info(`verify: ${line}`);
    info(`verify: ${summaryLine(result)}`);
    if (!result.clean) {
      const places = result.hits.length === 1 ? '1 place' : `${result.hits.length} places`;
      const what = t.kind === 'image' ? `${t.label ? `${t.label}: ` : ''}the image just built (${result.id})` : `${t.path}, which ${t.flag} wrote,`;
      const where = t.kind === 'image' ? 'It is in the local image store: do not push it.' : 'Do not publish it.';
      throw new LeakError(
        `--verify: ${what} holds secret values in ${places}, listed above. ${where} Mount secrets instead of copying them into layers, ENV, LABEL or build-args (secbuild check shows the usual causes), then rebuild.`,
      );
    }
    if (result.unreadable.length > 0) throw new UsageError(`--verify: ${result.unreadable.length} blob(s) of ${result.id} could not be searched (listed above), so the image is not verified.`);
  }
}
