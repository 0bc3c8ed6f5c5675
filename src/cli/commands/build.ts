/**
 * `secbuild [build] …`: resolve, preflight, guard the build-args, write the
 * secret files, run `docker build --secret id=…,src=…` with its output masked
 * when it goes to a log, and remove the files on every path.
 */
import { constants as osConstants } from 'node:os';
import { buildHelp, parseBuildArgs, type BuildArgs } from '../../args/build.js';
import { dockerBuildArgv, shellQuote } from '../../engines/docker/argv.js';
import { onGitHubActions } from '../../guards/github.js';
import { buildEnv, detectEngine, findDocker, type Engine } from '../../engines/docker/detect.js';
import { DockerExit } from '../../util/errors.js';
import { guardBuildArgs, parseBuildArgFlags, wantsProvenanceMax } from '../../guards/build-args.js';
import { endGroup, info, openGroup, warn } from '../../util/log.js';
import { tooShortToMask } from '../../secrets/forms.js';
import { planSpecs } from '../../secrets/plan.js';
import { newReport, reportSecrets, withReport, type Report } from '../../pipeline/report.js';
import { resolveSpecs, type Resolution } from '../../secrets/resolve.js';
import { chooseRoot } from '../../run/rundir.js';
import { withSecretFiles } from '../../run/session.js';
import { mark } from '../../util/timing.js';
import { VERSION } from '../../util/version.js';
import { runMasked } from '../../pipeline/masked-run.js';
import { plannedFiles, prepareOutput } from '../../pipeline/output.js';
import { runPreflight } from '../../pipeline/preflight.js';


export async function buildCommand(argv: readonly string[]): Promise<number> {
  mark('start');
  const args = parseBuildArgs(argv);
  if (args.help) {
    process.stdout.write(buildHelp());
    return 0;
  }
  const report = newReport('build', VERSION);
  return withReport(report, args.report, (r) => build(args, r));
}

async function build(args: BuildArgs, report: Report): Promise<number> {
  const env = process.env;
  const cwd = process.cwd();
  const gha = onGitHubActions(env);
  if (gha) openGroup();
  const plan = await planSpecs(args, env, cwd);
  mark('plan');
  const docker = findDocker(args.docker, env);
  const root = chooseRoot({ tmpdir: args.tmpdir, env, requireTmpfs: args.requireTmpfs });

  // Preflight needs only the declared ids; resolution and engine detection run in parallel after it.
  mark('root');
  const preflight = await runPreflight(args, plan.specs, env, cwd, plan.configPath);
  report.preflight = { checked: preflight.checked, findings: preflight.findings };
  mark('preflight');
  const [resolution, engine] = await Promise.all([
    resolveSpecs(plan.specs, { env, childEnv: plan.childEnv }),
    detectEngine(docker, env),
  ]);
  mark('resolve');
  report.engine = { docker: engine.docker, clientVersion: engine.clientVersion, buildkit: engine.buildkit };
  report.skipped = resolution.skipped;
  const { masking, patterns } = prepareOutput(resolution, root, args, gha);
  reportSecrets(report, resolution.values, resolution.secrets, (s) => masking && !tooShortToMask(s.value));
  report.masking.enabled = masking;
  const guard = guardBuildArgs(
    parseBuildArgFlags(args.buildArgs, env),
    resolution.values,
    new Set(args.allowSecretBuildArg),
    wantsProvenanceMax(args.dockerArgs),
  );
  for (const w of guard.warnings) warn(w);
  report.warnings.push(...guard.warnings);

  // On a terminal docker draws its own progress; through the redactor it must print plain lines.
  const userArgs = masking && !args.dockerArgs.some((a) => a === '--progress' || a.startsWith('--progress=')) && process.stderr.isTTY
    ? ['--progress=plain', ...args.dockerArgs]
    : args.dockerArgs;
  // A build-arg let through that reads its value from the environment needs that variable back.
  const childEnv = { ...plan.childEnv };
  for (const name of guard.allowedEnvNames) childEnv[name] = env[name];

  if (args.dryRun) {
    endGroup();
    return dryRun(engine, root.root, resolution, userArgs);
  }
  const verify = args.verify ? await import('../../pipeline/verify-step.js') : undefined;
  const builtId = await withSecretFiles(root.root, resolution.secrets, async (files, session) => {
    mark('files');
    // --verify needs the image id: from the user's --iidfile, else from one in the run directory.
    const iid = verify?.iidFileFor(args.dockerArgs, session.dir.path, cwd);
    const argv = dockerBuildArgv(files, iid ? [...iid.args, ...userArgs] : userArgs);
    report.dockerArgv = [engine.docker, ...argv];
    endGroup();
    const result = await runMasked(session, engine.docker, argv, buildEnv(childEnv), masking ? patterns : undefined, report);
    mark('docker');
    if (result.signal) throw new DockerExit(128 + (osConstants.signals[result.signal] ?? 0));
    if (result.code !== 0) throw new DockerExit(result.code ?? 1);
    return iid && verify?.readIid(iid.path);
  });
  // The secret files are gone by now; the search needs only the values.
  if (verify && builtId) {
    try {
      await verify.verifyBuilt({ docker: engine.docker, id: builtId, env: childEnv, values: resolution.values, report });
    } finally {
      mark('verify');
    }
  }
  return 0;
}

function dryRun(engine: Engine, root: string, resolution: Resolution, userArgs: readonly string[]): number {
  const { dir, files } = plannedFiles(root, resolution.secrets);
  // buildEnv() always sets DOCKER_BUILDKIT=1, so the printed command does too.
  process.stdout.write(`DOCKER_BUILDKIT=1 ${shellQuote([engine.docker, ...dockerBuildArgv(files, userArgs)])}\n`);
  info(`dry run: no secret file was written (a real run writes them under ${dir}) and docker was not started.`);
  return 0;
}
