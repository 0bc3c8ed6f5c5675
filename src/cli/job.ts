/**
 * What every pipeline command (build, compose, exec) does around its job: parse the
 * command line, answer --help, then run the shared pipeline with a report.
 */
import { newReport, withReport } from '../pipeline/report.js';
import { runPipeline, type Job } from '../pipeline/run.js';
import { mark } from '../util/timing.js';
import { VERSION } from '../util/version.js';

export async function jobCommand<A extends { help: boolean; report?: string }>(o: {
  command: 'build' | 'compose' | 'exec' | 'bake' | 'run';
  argv: readonly string[];
  parse: (argv: readonly string[]) => A;
  help: () => string;
  job: (args: A) => Promise<Job | undefined>;
}): Promise<void> {
  mark('start');
  const args = o.parse(o.argv);
  if (args.help) {
    process.stdout.write(o.help());
    return;
  }
  const report = newReport(o.command, VERSION);
  // compose lists every docker process it starts; exec its command.
  if (o.command !== 'build') report.runs = [];
  await withReport(report, args.report, (r) => runPipeline(() => o.job(args), r));
}
