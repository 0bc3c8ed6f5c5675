/**
 * `secbuild compose [compose options] build [build options] [SERVICE...]`:
 * the shared pipeline (src/pipeline/run.ts) with the compose job
 * (src/pipeline/compose.ts) — one run directory for every service, written
 * once, removed on every path.
 */
import { composeHelp, parseComposeArgs } from '../../args/compose.js';
import { composeJob } from '../../pipeline/compose.js';
import { jobCommand } from '../job.js';

export function composeCommand(argv: readonly string[]): Promise<void> {
  return jobCommand({ command: 'compose', argv, parse: parseComposeArgs, help: composeHelp, job: composeJob });
}
