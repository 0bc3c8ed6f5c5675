/**
 * `secbuild run [options] [docker run options] IMAGE [CMD…]`: the shared
 * pipeline (src/pipeline/run.ts) with the run job (src/pipeline/docker-run.ts)
 * — secrets bind-mounted read-only at /run/secrets/ID from the private run
 * directory, removed when the container is done with them.
 */
import { parseRunArgs, runHelp } from '../../args/run.js';
import { runJob } from '../../pipeline/docker-run.js';
import { jobCommand } from '../job.js';

export function runCommand(argv: readonly string[]): Promise<void> {
  return jobCommand({ command: 'run', argv, parse: parseRunArgs, help: runHelp, job: runJob });
}
