/**
 * The one pipeline every secret-carrying command runs:
 *
 *   plan → root → daemon → preflight → resolve (‖ engine detection) → output & masking
 *   → build-arg guard → dry run | session (files, children, cleanup) → verify
 *
 * A command supplies a `Job` (src/pipeline/build.ts, compose.ts, exec.ts, and
 * the run-time jobs docker-run.ts and compose-up.ts):
 * what to resolve, how to preflight, which build-args docker will record, what
 * a dry run prints and what to run — docker (build, compose) or any command
 * (exec, whose preflight, detection and guard are no-ops). Everything else —
 * the report, the run directory, masking, `::add-mask::`, the guard, the
 * children's env — is done here once, the same way for every job. A build job
 * names its `Engine` (src/engines/engine.ts: docker or podman); each build
 * child's environment and its after-care (podman's reaper) come from it.
 */
import type { SecretRunOptions } from '../args/build.js';
import type { Engine } from '../engines/engine.js';
import { guardBuildArgs, type BuildArg } from '../guards/build-args.js';
import { onGitHubActions } from '../guards/github.js';
import { withVars, type ChildEnv } from '../run/env.js';
import { printableArgv } from '../run/printable.js';
import { startKeeper, type KeptFor } from '../run/keeper.js';
import { chooseRoot, type SecretFile } from '../run/rundir.js';
import { withSecretFiles } from '../run/session.js';
import { formatPolicy } from '../secrets/cache-policy.js';
import { tooShortToMask } from '../secrets/forms.js';
import type { Resolution } from '../secrets/resolve.js';
import type { SecretSpec } from '../secrets/spec.js';
import { ChildExit } from '../util/errors.js';
import { endGroup, info, masked, openGroup, warn } from '../util/log.js';
import { mark } from '../util/timing.js';
import { runMasked, type MaskedRunOptions } from './masked-run.js';
import { plannedFiles, prepareOutput } from './output.js';
import { reportSecrets, type Report } from './report.js';
import { resolveMasked } from './resolve-step.js';
import { plannedSshFlags, sshKeysOf, withAgents } from './ssh-step.js';
import type { Built } from './verify-step.js';

export interface RunContext {
  files: readonly SecretFile[];
  /** The run directory (secret files, the compose override, the --verify iid file). */
  dir: string;
  /** Whether docker's output goes through the redactor. */
  masking: boolean;
  /** The environment of the run's children: secret sources removed, build-args let through by name added. */
  env: ChildEnv;
  /** `ID=SOCKET` for each of secbuild's ssh agents: the values of docker's --ssh. */
  ssh: readonly string[];
  /** Writes a file of the run (exclusive, 0600, removed with the secrets); returns its path. */
  write(id: string, text: string): string;
  /** Writes files with their own names into subdirectory `sub` of the run directory (the derived Dockerfile); returns its path. */
  writeNamed(sub: string, files: ReadonlyArray<{ name: string; value: Buffer }>): string;
  /**
   * Runs `ENGINE ARGV` (docker or podman) with the run's environment, masking and report entry; resolves to its exit code (128+N for a signal).
   * `rewrite` rewrites each line of the engine's stderr after masking (a derived Dockerfile's lines made the user's).
   */
  docker(argv: readonly string[], service?: string, opts?: Pick<MaskedRunOptions, 'rawStdout' | 'rewrite' | 'stdoutToStderr' | 'onInterrupt'>): Promise<number>;
  /** Hands the run directory to a keeper (src/run/keeper.ts) that removes it once `kept` is gone; this run then leaves it. */
  keep(kept: KeptFor): Promise<void>;
  /** Runs any other command (exec's) with `env` as its whole environment, the same masking and a report entry; resolves to its exit code. */
  command(file: string, argv: readonly string[], env: ChildEnv): Promise<number>;
}

export interface Job {
  readonly options: SecretRunOptions & { verify?: boolean; dockerArgs?: readonly string[] };
  /** The environment of every child: the variables of every secret source removed. */
  readonly childEnv: ChildEnv;
  /** The secrets to resolve (compose adds the project's own definitions to the plan's). */
  readonly specs: readonly SecretSpec[];
  /** The engine every build runs (its binary: `engine.bin`); absent for a job that runs no engine (exec). */
  readonly engine?: Engine;
  /** Names the run directory's files (default `NN-id`; exec: the id, so `$SECBUILD_SECRETS/ID`). */
  fileName?(id: string, index: number): string;
  /**
   * Checks the Dockerfile(s) against the secrets; throws on an error. Returns
   * what goes into the report, and the template inputs a RUN mounts under
   * their own id (`mount`): those are handed to docker as well.
   */
  preflight(): Promise<Report['preflight'] & { mount?: string[] }>;
  /** Engine detection, run while secrets resolve; fills `report.engine`. */
  detect(report: Report): Promise<void>;
  /** After detect: docker runs as the user would run it, without DOCKER_BUILDKIT=1 (a build with no secret on a CLI without BuildKit). */
  passThrough?(): boolean;
  /** What docker will record as build-args, per build (`scope` prefixes the warnings). */
  buildArgs(): Array<{ scope?: string; args: BuildArg[] }>;
  readonly provenanceMax: boolean;
  /** Masked output on a terminal: make docker print plain progress lines. */
  plainProgress(): void;
  /** Checks and inputs that need the resolved secrets (compose: the override tag; the cache policies' build-args). */
  beforeRun?(resolution: Resolution): void | Promise<void>;
  /** What --dry-run prints: the commands a real run would start (paths, never values); `ssh` as in RunContext. */
  dryRun(files: SecretFile[], dir: string, ssh: readonly string[]): string[];
  /** Runs docker; resolves to what the build produced, to verify (build --verify), if any. */
  run(ctx: RunContext): Promise<Built | undefined>;
}

/** Runs the job `prepare` makes; a job of undefined means there is nothing to do (said by `prepare`). */
export async function runPipeline(prepare: () => Promise<Job | undefined>, report: Report): Promise<void> {
  const env = process.env;
  const gha = onGitHubActions(env);
  if (gha) openGroup();
  const job = await prepare();
  if (!job) return endGroup();
  mark('plan');
  const { options } = job;
  const root = chooseRoot({ tmpdir: options.tmpdir, env, requireTmpfs: options.requireTmpfs });
  mark('root');
  // No daemon, no build: said before any provider runs, and before a preflight finding (a dry run starts
  // no engine and needs none). The check (one socket connect) runs while the Dockerfile is read.
  const [daemon, preflight] = await Promise.allSettled([options.dryRun ? undefined : job.engine?.requireDaemon?.(job.childEnv, options.dockerArgs), job.preflight()]);
  if (daemon.status === 'rejected') throw daemon.reason;
  if (preflight.status === 'rejected') throw preflight.reason;
  const { checked, findings, mount = [] } = preflight.value;
  report.preflight = { checked, findings };
  mark('preflight');

  const specs = job.specs.map((s) => (!s.mount && mount.includes(s.id) ? { ...s, mount: true } : s));
  const [resolution] = await Promise.all([resolveMasked(specs, { env, childEnv: job.childEnv }), job.detect(report)]);
  const ssh = await sshKeysOf(specs, resolution);
  if (ssh.length > 0) report.ssh = ssh.map((p) => ({ id: p.id, keys: p.described }));
  mark('resolve');
  report.skipped = resolution.skipped;
  if (resolution.secrets.length > 0) {
    for (const c of job.engine?.caveats?.(options.requireTmpfs) ?? []) {
      warn(c);
      report.warnings.push(c);
    }
  }
  const { masking, patterns, terminalIsLog } = await prepareOutput(resolution, root, options, gha);
  const policy = (id: string) => formatPolicy(specs.find((s) => s.id === id)?.cache);
  reportSecrets(report, resolution.values, resolution.secrets, (s) => masking && !tooShortToMask(s.value), policy);
  report.masking.enabled = masking;

  const warnings = new Set<string>();
  const letThrough = new Set<string>();
  for (const { scope, args } of job.buildArgs()) {
    const guard = guardBuildArgs(args, resolution.values, new Set(options.allowSecretBuildArg), job.provenanceMax, scope);
    guard.warnings.forEach((w) => warnings.add(w));
    guard.allowedEnvNames.forEach((n) => letThrough.add(n));
  }
  warnings.forEach((w) => warn(w));
  report.warnings.push(...warnings);
  if (masking && process.stderr.isTTY) job.plainProgress();
  await job.beforeRun?.(resolution);
  mark('checks');
  // A build-arg let through by name that reads its value from the environment needs that variable back.
  const childEnv: ChildEnv = withVars(job.childEnv, Object.fromEntries([...letThrough].map((n) => [n, env[n]])));

  endGroup();
  if (options.dryRun) {
    const { dir, files } = plannedFiles(root.root, resolution.secrets, policy, job.fileName);
    process.stdout.write(masked(`${job.dryRun(files, dir, await plannedSshFlags(dir, ssh)).join('\n')}\n`));
    info(`dry run: no secret file was written (a real run writes them under ${dir}) and ${job.engine ? job.engine.name : 'the command'} was not started.`);
    return;
  }

  const passThrough = job.passThrough?.() === true;
  const built = await withSecretFiles(root.root, resolution.secrets, (files, session) => withAgents(session.dir.path, ssh, (sshFlags) => {
    mark('files');
    const run = async (file: string, argv: readonly string[], env: ChildEnv, opts: Omit<MaskedRunOptions, 'noTerminal'> & { service?: string }) => {
      const entry = { ...(opts.service === undefined ? {} : { service: opts.service }), argv: printableArgv([file, ...argv]), exitCode: undefined as number | undefined };
      report.runs?.push(entry);
      if (file === job.engine?.bin) report.dockerArgv = entry.argv;
      const result = await runMasked(session, file, argv, env, masking ? patterns : undefined, report, { ...opts, noTerminal: terminalIsLog });
      entry.exitCode = ChildExit.codeOf(result);
      return entry.exitCode;
    };
    return job.run({
      files,
      dir: session.dir.path,
      masking,
      env: childEnv,
      ssh: sshFlags,
      write: (id, text) => session.dir.writeAll([{ id, value: Buffer.from(text, 'utf8') }])[0]!.path,
      writeNamed: (sub, named) => session.dir.writeNamed(sub, named),
      async docker(argv, service, opts = {}) {
        const engine = job.engine!;
        const child = passThrough ? { env: childEnv, after: undefined } : engine.startBuild(childEnv, session.dir.path);
        try {
          return await run(engine.bin, argv, child.env, { service, ...opts });
        } finally {
          await child.after?.();
        }
      },
      command: (file, argv, env) => run(file, argv, env, { notStarted: 'check the command name and PATH' }),
      async keep(kept) {
        // The daemon docker addresses now, pinned: a later `docker context use` must not redirect the keeper.
        const { currentEndpoint } = await import('../engines/docker/local.js');
        const daemon = await currentEndpoint(job.engine!.bin, childEnv);
        session.handOff((dir, alive) => {
          const pid = startKeeper({ dir, alive, docker: job.engine!.bin, daemon, env: childEnv, for: kept });
          info(`the secret files stay in ${dir} while ${'container' in kept ? 'the container exists' : `project "${kept.project}" has containers`} (keeper pid ${pid}).`);
        });
      },
    });
  }), { fileName: job.fileName });
  mark('docker');
  if (options.verify && built) {
    const { verifyBuilt } = await import('./verify-step.js');
    try {
      await verifyBuilt({ engine: job.engine!, built, env: childEnv, values: resolution.values, report });
    } finally {
      mark('verify');
    }
  }
}
