/**
 * `secbuild build` as a pipeline job: one `docker build --secret id=…,src=…
 * <the user's arguments verbatim>` with the Dockerfile preflighted, and, with
 * --verify, the image id docker writes to an --iidfile. When a secret has a
 * cache policy (src/secrets/cache-policy.ts), the user's -f is replaced by a
 * derived Dockerfile in the run directory plus one --build-arg per policy
 * (./cache-args.ts), and docker's messages are mapped back to the user's file.
 */
import type { BuildArgs } from '../args/build.js';
import { outputToStdout, shellQuote } from '../engines/docker/argv.js';
import { addressDaemon, daemonPrefix } from '../engines/docker/daemon.js';
import { NoBuildKitError } from '../engines/docker/detect.js';
import { chooseEngine } from '../engines/select.js';
import { parseBuildArgFlags, parseLabelFlags, wantsProvenanceMax } from '../guards/build-args.js';
import { planSpecs } from '../secrets/plan.js';
import { checkSshConflicts } from '../secrets/ssh.js';
import { DockerExit } from '../util/errors.js';
import { info } from '../util/log.js';
import { isKeyed } from '../secrets/cache-policy.js';
import type { Resolution } from '../secrets/resolve.js';
import type { CacheArgs } from './cache-args.js';
import { askDocker, runPreflight, type PreflightResult } from './preflight.js';
import type { Job } from './run.js';

/** The run directory's subdirectory that holds the derived Dockerfile. */
const DERIVED_DIR = 'dockerfile';

export async function buildJob(args: BuildArgs): Promise<Job> {
  const env = process.env;
  const cwd = process.cwd();
  const plan = await planSpecs(args, env, cwd);
  checkSshConflicts(plan.specs, args.ssh);
  const engine = await chooseEngine(args, env);
  const docker = engine.bin;
  // --context / -H: every docker child of the run addresses that daemon (src/engines/docker/daemon.ts).
  const childEnv = addressDaemon(engine.name, plan.childEnv, args);
  let userArgs = args.dockerArgs;
  // No secret at all and no BuildKit: nothing for secbuild to mount, so docker builds it as `docker build` would.
  let passThrough = false;
  let read: PreflightResult | undefined;
  let cache: CacheArgs | undefined;
  let cacheMod: typeof import('./cache-args.js') | undefined;
  let verifyPlan: import('./verify-step.js').VerifyPlan | undefined;
  const policyOf = (id: string) => plan.specs.find((s) => s.id === id)?.cache;
  /** The user's words without their -f (a derived Dockerfile replaces it), and secbuild's words first. */
  const withCache = (words: readonly string[], ours: string[]): string[] => {
    const at = args.fileAt;
    const offset = words.length - args.dockerArgs.length; // --progress=plain, put in front
    const rest = at ? words.filter((_, i) => i < at.index + offset || i >= at.index + offset + at.count) : [...words];
    return [...ours, ...rest];
  };
  return {
    options: args,
    childEnv,
    specs: plan.specs,
    engine,
    async preflight() {
      read = await runPreflight(args, plan.specs, env, cwd, plan.configPath, engine.name, () => askDocker(docker, args.dockerArgs, childEnv));
      const { checked, findings, mount } = read;
      return { checked, findings, mount };
    },
    async beforeRun(resolution: Resolution) {
      if (!resolution.secrets.some((s) => isKeyed(policyOf(s.id)))) return;
      cacheMod = await import('./cache-args.js');
      cache = await cacheMod.cacheArgs({ secrets: resolution.secrets, policyOf, dockerfile: read?.dockerfile, skip: read?.skip, env, childEnv, dryRun: args.dryRun });
    },
    async detect(report) {
      try {
        report.engine = await engine.detect(childEnv);
      } catch (err) {
        if (!(err instanceof NoBuildKitError) || plan.specs.length > 0) throw err;
        passThrough = true;
        info(`no secret is given and ${docker} cannot build with BuildKit: the build goes to docker unchanged (its classic builder).`);
      }
      // --verify: what the build will produce and whether it can be searched, decided before it runs.
      if (args.verify) verifyPlan = await (await import('./verify-step.js')).planVerify(engine, report.engine?.buildkit === 'buildx', args.dockerArgs, childEnv, cwd);
    },
    passThrough: () => passThrough,
    buildArgs: () => [{ args: [...parseBuildArgFlags(args.buildArgs, env), ...parseLabelFlags(args.dockerArgs)] }],
    provenanceMax: wantsProvenanceMax(args.dockerArgs),
    plainProgress() {
      // On a terminal docker draws its own progress; through the redactor it must print plain lines (podman's always are).
      if (engine.plainProgressFlag && !userArgs.some((a) => a === '--progress' || a.startsWith('--progress='))) userArgs = ['--progress=plain', ...userArgs];
    },
    // The engine's build environment (DOCKER_BUILDKIT=1; podman's TMPDIR) is printed with the command.
    dryRun: (files, dir, ssh) => {
      const words = cache ? withCache(userArgs, cacheMod!.cacheArgv(cache, `${dir}/${DERIVED_DIR}`)) : userArgs;
      return [`${daemonPrefix(args)}${passThrough ? '' : engine.dryRunPrefix(dir)}${shellQuote([docker, ...engine.buildArgv(files, words, ssh)])}`];
    },
    async run(ctx) {
      // --verify needs the image id (from the user's --iidfile, else from one in the run directory) or the files the build writes.
      const verify = verifyPlan && (await import('./verify-step.js')).startVerify(verifyPlan, args.dockerArgs, ctx.dir, cwd);
      const rawStdout = outputToStdout(args.dockerArgs);
      // The artifact on stdout is binary and must arrive byte-exact: never rewritten by the redactor.
      if (rawStdout && ctx.masking) info("docker's stdout carries the build output (-o -): it is passed through not masked; stderr is masked.");
      let words = userArgs;
      let rewrite;
      if (cache) {
        const { cacheArgv, derivedFiles, lineRewrite } = cacheMod!;
        const dir = ctx.writeNamed(DERIVED_DIR, derivedFiles(cache));
        words = withCache(userArgs, cacheArgv(cache, dir));
        rewrite = lineRewrite(cache);
      }
      const code = await ctx.docker(engine.buildArgv(ctx.files, verify ? [...verify.args, ...words] : words, ctx.ssh), undefined, { rawStdout, rewrite });
      if (code !== 0) throw new DockerExit(code);
      return verify?.built();
    },
  };
}
