/**
 * `secbuild build` as a pipeline job: one `docker build --secret id=…,src=…
 * <the user's arguments verbatim>` with the Dockerfile preflighted, and, with
 * --verify, the image id docker writes to an --iidfile.
 */
import type { BuildArgs } from '../args/build.js';
import { outputToStdout, shellQuote } from '../engines/docker/argv.js';
import { NoBuildKitError } from '../engines/docker/detect.js';
import { chooseEngine } from '../engines/select.js';
import { parseBuildArgFlags, parseLabelFlags, wantsProvenanceMax } from '../guards/build-args.js';
import { planSpecs } from '../secrets/plan.js';
import { DockerExit } from '../util/errors.js';
import { info } from '../util/log.js';
import { runPreflight } from './preflight.js';
import type { Job } from './run.js';

export async function buildJob(args: BuildArgs): Promise<Job> {
  const env = process.env;
  const cwd = process.cwd();
  const plan = await planSpecs(args, env, cwd);
  const engine = chooseEngine(args, env);
  const docker = engine.bin;
  let userArgs = args.dockerArgs;
  // No secret at all and no BuildKit: nothing for secbuild to mount, so docker builds it as `docker build` would.
  let passThrough = false;
  return {
    options: args,
    childEnv: plan.childEnv,
    specs: plan.specs,
    engine,
    async preflight() {
      const { checked, findings, mount } = await runPreflight(args, plan.specs, env, cwd, plan.configPath, engine.name);
      return { checked, findings, mount };
    },
    async detect(report) {
      try {
        report.engine = await engine.detect(plan.childEnv);
      } catch (err) {
        if (!(err instanceof NoBuildKitError) || plan.specs.length > 0) throw err;
        passThrough = true;
        info(`no secret is given and ${docker} cannot build with BuildKit: the build goes to docker unchanged (its classic builder).`);
      }
    },
    passThrough: () => passThrough,
    buildArgs: () => [{ args: [...parseBuildArgFlags(args.buildArgs, env), ...parseLabelFlags(args.dockerArgs)] }],
    provenanceMax: wantsProvenanceMax(args.dockerArgs),
    plainProgress() {
      // On a terminal docker draws its own progress; through the redactor it must print plain lines (podman's always are).
      if (engine.plainProgressFlag && !userArgs.some((a) => a === '--progress' || a.startsWith('--progress='))) userArgs = ['--progress=plain', ...userArgs];
    },
    // The engine's build environment (DOCKER_BUILDKIT=1; podman's TMPDIR) is printed with the command.
    dryRun: (files, dir) => [`${passThrough ? '' : engine.dryRunPrefix(dir)}${shellQuote([docker, ...engine.buildArgv(files, userArgs)])}`],
    async run(ctx) {
      // --verify needs the image id: from the user's --iidfile, else from one in the run directory.
      const verify = args.verify ? await import('./verify-step.js') : undefined;
      const iid = verify?.iidFileFor(args.dockerArgs, ctx.dir, cwd);
      const rawStdout = outputToStdout(args.dockerArgs);
      // The artifact on stdout is binary and must arrive byte-exact: never rewritten by the redactor.
      if (rawStdout && ctx.masking) info("docker's stdout carries the build output (-o -): it is passed through not masked; stderr is masked.");
      const code = await ctx.docker(engine.buildArgv(ctx.files, iid ? [...iid.args, ...userArgs] : userArgs), undefined, { rawStdout });
      if (code !== 0) throw new DockerExit(code);
      return iid && verify?.readIid(iid.path);
    },
  };
}
