/**
 * `secbuild bake [secbuild options] [bake options] [TARGET...]`: the shared
 * pipeline (src/pipeline/run.ts) with the bake job (src/pipeline/bake.ts).
 */
import { bakeHelp, parseBakeArgs } from '../../args/bake.js';
import { bakeJob } from '../../pipeline/bake.js';
import { jobCommand } from '../job.js';

export function bakeCommand(argv: readonly string[]): Promise<void> {
  return jobCommand({ command: 'bake', argv, parse: parseBakeArgs, help: bakeHelp, job: bakeJob });
}
