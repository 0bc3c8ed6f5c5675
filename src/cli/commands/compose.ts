/**
 * `secbuild compose [compose options] build [build options] [SERVICE...]`:
 * the shared pipeline (src/pipeline/run.ts) with the compose job
 * (src/pipeline/compose.ts) — one run directory for every service, written
 * once, removed on every path.
 */
import { composeHelp, parseComposeArgs } from '../../args/compose.js';
import { composeJob } from '../../pipeline/compose.js';
import { newReport, withReport } from '../../pipeline/report.js';
import { runPipeline } from '../../pipeline/run.js';
import { mark } from '../../util/timing.js';
import { VERSION } from '../../util/version.js';

export async function composeCommand(argv: readonly string[]): Promise<void> {
  mark('start');
  const args = parseComposeArgs(argv);
  if (args.help) {
    process.stdout.write(composeHelp());
    return;
  }
  const report = newReport('compose', VERSION);
  report.runs = [];
  await withReport(report, args.report, (r) => runPipeline(() => composeJob(args), r));
}
