/**
 * `secbuild [build] …`: resolve, preflight, guard the build-args, write the
 * secret files, run `docker build --secret id=…,src=…` with its output masked
 * when it goes to a log, and remove the files on every path — the shared
 * pipeline (src/pipeline/run.ts) with the build job (src/pipeline/build.ts).
 */
import { buildHelp, parseBuildArgs } from '../../args/build.js';
import { buildJob } from '../../pipeline/build.js';
import { jobCommand } from '../job.js';

export function buildCommand(argv: readonly string[]): Promise<void> {
  return jobCommand({ command: 'build', argv, parse: parseBuildArgs, help: buildHelp, job: buildJob });
}
