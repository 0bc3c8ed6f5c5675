/**
 * `secbuild compose [compose options] build [build options] [SERVICE...]`:
 * the shared pipeline (src/pipeline/run.ts) with the compose job
 * (src/pipeline/compose.ts) — one run directory for every service, written
 * once, removed on every path.
 */
import { composeHelp, parseComposeArgs, type ComposeArgs } from '../../args/compose.js';
import { composeJob } from '../../pipeline/compose.js';
import { jobCommand } from '../job.js';

export function composeCommand(argv: readonly string[]): Promise<void> {
  return jobCommand({ command: 'compose', argv, parse: parseComposeArgs, help: composeHelp, job: composeJobFor });
}

/** build: the build job; up and down: run-time secrets (src/pipeline/compose-up.ts). */
async function composeJobFor(args: ComposeArgs) {
  if (args.command === 'build') return composeJob(args);
  const { composeUpJob, composeDownJob } = await import('../../pipeline/compose-up.js');
  return args.command === 'up' ? composeUpJob(args) : composeDownJob(args);
}
