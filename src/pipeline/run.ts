/**
 * The one pipeline every secret-carrying command runs:
 *
 *   plan → root → preflight → resolve (‖ engine detection) → output & masking
 *   → build-arg guard → dry run | session (files, docker, cleanup) → verify
 *
 * A command supplies a `Job` (src/pipeline/build.ts, src/pipeline/compose.ts):
 * what to resolve, how to preflight, which build-args docker will record, what
 * a dry run prints and how to run docker. Everything else — the report, the
 * run directory, masking, `::add-mask::`, the guard, the docker runs' env —
 * is done here once, the same way for every engine. The job names its
 * `Engine` (src/engines/engine.ts: docker or podman); each build child's
 * environment and its after-care (podman's reaper) come from it.
 */
import type { SecretRunOptions } from '../args/build.js';
import type { Engine } from '../engines/engine.js';
import { guardBuildArgs, type BuildArg } from '../guards/build-args.js';
import { onGitHubActions } from '../guards/github.js';
import { withVars, type ChildEnv } from '../run/env.js';
import { chooseRoot, type SecretFile } from '../run/rundir.js';
import { withSecretFiles } from '../run/session.js';
import { tooShortToMask } from '../secrets/forms.js';
import type { Resolution } from '../secrets/resolve.js';
import type { SecretSpec } from '../secrets/spec.js';
import { DockerExit } from '../util/errors.js';
import { endGroup, info, masked, openGroup, warn } from '../util/log.js';
import { mark } from '../util/timing.js';
import { runMasked } from './masked-run.js';
import { plannedFiles, prepareOutput } from './output.js';
import { reportSecrets, type Report } from './report.js';
import { resolveMasked } from './resolve-step.js';

export interface RunContext {
  files: readonly SecretFile[];
  /** The run directory (secret files, the compose override, the --verify iid file). */
  dir: string;
  /** Whether docker's output goes through the redactor. */
  masking: boolean;
  /** Writes a file of the run (exclusive, 0600, removed with the secrets); returns its path. */
  write(id: string, text: string): string;
  /** Runs `ENGINE ARGV` (docker or podman) with the run's environment, masking and report entry; resolves to its exit code (128+N for a signal). */
  docker(argv: readonly string[], service?: string, opts?: { rawStdout?: boolean }): Promise<number>;
}

export interface Job {
  readonly options: SecretRunOptions & { verify?: boolean };
  /** The environment of every child: the variables of every secret source removed. */
  readonly childEnv: ChildEnv;
  /** The secrets to resolve (compose adds the project's own definitions to the plan's). */
  readonly specs: readonly SecretSpec[];
  /** The engine every run uses (its binary: `engine.bin`). */
  readonly engine: Engine;
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
  /** Checks that need the resolved secrets (compose: the override tag). */
  beforeRun?(resolution: Resolution): void;
  /** What --dry-run prints: the commands a real run would start (paths, never values). */
  dryRun(files: SecretFile[], dir: string): string[];
  /** Runs docker; resolves to the image id to verify (build --verify), if any. */
  run(ctx: RunContext): Promise<string | undefined>;
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
  const { checked, findings, mount = [] } = await job.preflight();
  report.preflight = { checked, findings };
  mark('preflight');

  const specs = job.specs.map((s) => (!s.mount && mount.includes(s.id) ? { ...s, mount: true } : s));
  const [resolution] = await Promise.all([resolveMasked(specs, { env, childEnv: job.childEnv }), job.detect(report)]);
  mark('resolve');
  report.skipped = resolution.skipped;
  if (resolution.secrets.length > 0) {
    for (const c of job.engine.caveats?.(options.requireTmpfs) ?? []) {
      warn(c);
      report.warnings.push(c);
    }
  }
  const { masking, patterns } = await prepareOutput(resolution, root, options, gha);
  reportSecrets(report, resolution.values, resolution.secrets, (s) => masking && !tooShortToMask(s.value));
  report.masking.enabled = masking;

  const warnings = new Set<string>();
  const letThrough = new Set<string>();
  for (const { scope, args } of job.buildArgs()) {
    const guard = guardBuildArgs(args, resolution.values, new Set(options.allowSecretBuildArg), job.provenanceMax);
    guard.warnings.forEach((w) => warnings.add(scope ? `${scope}: ${w}` : w));
    guard.allowedEnvNames.forEach((n) => letThrough.add(n));
  }
  warnings.forEach((w) => warn(w));
  report.warnings.push(...warnings);
  if (masking && process.stderr.isTTY) job.plainProgress();
  job.beforeRun?.(resolution);
  // A build-arg let through by name that reads its value from the environment needs that variable back.
  const childEnv: ChildEnv = withVars(job.childEnv, Object.fromEntries([...letThrough].map((n) => [n, env[n]])));

  endGroup();
  if (options.dryRun) {
    const { dir, files } = plannedFiles(root.root, resolution.secrets);
    process.stdout.write(masked(`${job.dryRun(files, dir).join('\n')}\n`));
    info(`dry run: no secret file was written (a real run writes them under ${dir}) and docker was not started.`);
    return;
  }

  const passThrough = job.passThrough?.() === true;
  const bin = job.engine.bin;
  const built = await withSecretFiles(root.root, resolution.secrets, (files, session) => {
    mark('files');
    return job.run({
      files,
      dir: session.dir.path,
      masking,
      write: (id, text) => session.dir.writeAll([{ id, value: Buffer.from(text, 'utf8') }])[0]!.path,
      async docker(argv, service, opts = {}) {
        const entry = { ...(service === undefined ? {} : { service }), argv: [bin, ...argv], exitCode: undefined as number | undefined };
        report.runs?.push(entry);
        report.dockerArgv = entry.argv;
        const child = passThrough ? { env: childEnv } : job.engine.startBuild(childEnv, session.dir.path);
        try {
          const result = await runMasked(session, bin, argv, child.env, masking ? patterns : undefined, report, opts.rawStdout);
          entry.exitCode = DockerExit.codeOf(result);
        } finally {
          await child.after?.();
        }
        return entry.exitCode;
      },
    });
  });
  mark('docker');
  if (options.verify && built) {
    const { verifyBuilt } = await import('./verify-step.js');
    try {
      await verifyBuilt({ engine: job.engine, id: built, env: childEnv, values: resolution.values, report });
    } finally {
      mark('verify');
    }
  }
}
