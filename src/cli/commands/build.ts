/**
 * `secbuild [build] …`: resolve, preflight, guard the build-args, write the
 * secret files, run `docker build --secret id=…,src=…` with its output masked
 * when it goes to a log, and remove the files on every path — the shared
 * pipeline (src/pipeline/run.ts) with the build job (src/pipeline/build.ts).
 */
import { buildHelp, parseBuildArgs } from '../../args/build.js';
import { buildJob } from '../../pipeline/build.js';
import { newReport, withReport } from '../../pipeline/report.js';
import { runPipeline } from '../../pipeline/run.js';
import { mark } from '../../util/timing.js';
import { VERSION } from '../../util/version.js';

export async function buildCommand(argv: readonly string[]): Promise<void> {
  mark('start');
  const args = parseBuildArgs(argv);
  if (args.help) {
    process.stdout.write(buildHelp());
    return;
  }
  await withReport(newReport('build', VERSION), args.report, (report) => runPipeline(() => buildJob(args), report));
}
