/**
 * `secbuild exec [options] [--] COMMAND [ARGS…]`: the shared pipeline
 * (src/pipeline/run.ts) with the exec job (src/pipeline/exec.ts) — the
 * build's secrets as files ($SECBUILD_SECRETS/ID) and variables for any
 * command, its output masked when it goes to a log, the files removed on
 * every path.
 */
import { execHelp, parseExecArgs } from '../../args/exec.js';
import { execJob } from '../../pipeline/exec.js';
import { jobCommand } from '../job.js';

export function execCommand(argv: readonly string[]): Promise<void> {
  return jobCommand({ command: 'exec', argv, parse: parseExecArgs, help: execHelp, job: execJob });
}
