/**
 * `secbuild exec … -- COMMAND ARGS…` as a pipeline job: the same specs
 * (flags and secbuild.yml), resolution, masking, run directory and cleanup
 * as a build, handed to any command instead of docker. Preflight, engine
 * detection and the build-arg guard have nothing to check here (no-ops).
 * The command runs without a shell, in the scrubbed environment plus what
 * ./exec-env.ts adds; its exit code is secbuild's (ChildExit).
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';
import { looksLikeRef, parseRef } from '../../providers/index.js';
import type { ExecArgs } from '../args/exec.js';
import { shellQuote } from '../engines/docker/argv.js';
import { withVars } from '../run/env.js';
import { childEnvFor, planSpecs } from '../secrets/plan.js';
import type { SecretSpec } from '../secrets/spec.js';
import { ChildExit, UsageError } from '../util/errors.js';
import { showTyped } from '../util/shown.js';
import { authSock, deliveredVars, dryRunLines, envSecretId, envValues, plannedVars } from './exec-env.js';
import type { Job } from './run.js';

/** Where `file` would be found as spawn() finds it: a path as it is, a bare name on PATH. */
export function findCommand(file: string, path: string | undefined, cwd: string): string | undefined {
  const candidates = file.includes('/') ? [resolve(cwd, file)] : (path ?? '').split(delimiter).map((d) => resolve(cwd, d || '.', file));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      if (statSync(c).isFile()) return c;
    } catch {
      // not there, or not executable
    }
  }
  return undefined;
}

function envSpecs(args: ExecArgs, cwd: string): SecretSpec[] {
  return args.envs.map(({ name, ref }): SecretSpec => {
    // Not echoed: text that is not a reference is most likely the credential itself.
    if (!looksLikeRef(ref)) {
      throw new UsageError(`--env ${name}: what follows "=" is not a reference (not shown, as it may be the credential itself); write --env ${name}=env:VAR, file:PATH, keychain:SERVICE/ACCOUNT or cmd:COMMAND.`);
    }
    return { kind: 'ref', id: envSecretId(name), optional: false, mount: false, origin: showTyped(`--env ${name}`), ref: parseRef(ref, cwd, `--env ${name}`) };
  });
}

export async function execJob(args: ExecArgs): Promise<Job> {
  const env = process.env;
  const cwd = process.cwd();
  const plan = await planSpecs(args, env, cwd);
  const specs = [...plan.specs, ...envSpecs(args, cwd)];
  const planned = plannedVars(specs, args.envs);
  const childEnv = childEnvFor(env, specs);
  const [file, ...argv] = args.command as [string, ...string[]];
  // Before any secret resolves: a typo in the command name writes no file.
  if (!findCommand(file, childEnv.PATH, cwd)) {
    throw new UsageError(`command "${file}" is not found${file.includes('/') ? ' or not executable' : ' on PATH'}; check its name, or give its path.`);
  }
  let values = new Map<string, string>();
  return {
    options: args,
    childEnv,
    specs,
    fileName: (id) => id,
    preflight: async () => ({ checked: false, findings: [] }),
    detect: async () => {},
    buildArgs: () => [],
    provenanceMax: false,
    plainProgress: () => {},
    beforeRun(resolution) {
      values = envValues(resolution.values, args.envs);
    },
    dryRun: (files, dir, ssh) => {
      const lines = dryRunLines(planned, dir, files, args.command, shellQuote);
      const sock = authSock(ssh);
      if ('SSH_AUTH_SOCK' in sock) lines.splice(lines.indexOf('files:'), 0, `  SSH_AUTH_SOCK=${sock.SSH_AUTH_SOCK ?? "(not set: several ssh ids and none is 'default')"}`);
      return lines;
    },
    async run(ctx) {
      const vars = { ...deliveredVars({ planned, dir: ctx.dir, files: ctx.files, values, base: ctx.env }), ...authSock(ctx.ssh) };
      const code = await ctx.command(file, argv, withVars(ctx.env, vars));
      if (code !== 0) throw new ChildExit(code);
      return undefined;
    },
  };
}
