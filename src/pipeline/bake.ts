/**
 * `secbuild bake` as a pipeline job: bake itself resolves the targets
 * (`docker buildx bake --print` with the user's -f, --set and targets, run
 * through the exec seam with the run's child environment); each target's
 * Dockerfile is preflighted (./bake-preflight.ts); each secret secbuild
 * provides is served from the run directory to the targets whose `secret` list
 * names its id or whose Dockerfile mounts it, by `--set TARGET.secrets=…`
 * (src/engines/docker/bake.ts says why). One bake, masked, in one run directory.
 */
import type { BakeArgs } from '../args/bake.js';
import { bakeArgv, checkSecretSets, secretEntryId, type BakeTarget } from '../engines/docker/bake.js';
import { shellQuote } from '../engines/docker/argv.js';
import { addressDaemon, daemonPrefix } from '../engines/docker/daemon.js';
import { chooseEngine } from '../engines/select.js';
import { wantsProvenanceMax } from '../guards/build-args.js';
import type { SecretFile } from '../run/rundir.js';
import { isKeyed } from '../secrets/cache-policy.js';
import { planSpecs } from '../secrets/plan.js';
import { isSshSpec } from '../secrets/ssh.js';
import { DockerExit, UsageError } from '../util/errors.js';
import { info, warn } from '../util/log.js';
import { bakePlan } from './bake-plan.js';
import type { TargetScan } from './bake-preflight.js';
import { askDocker } from './preflight.js';
import type { Report } from './report.js';
import type { Job } from './run.js';

/** The bake job, or undefined when bake resolves no target (said in one line). */
export async function bakeJob(args: BakeArgs): Promise<Job | undefined> {
  const env = process.env;
  const cwd = process.cwd();
  checkSecretSets(args.sets);
  const secretPlan = await planSpecs(args, env, cwd);
  const keyed = secretPlan.specs.filter((s) => !isSshSpec(s) && isKeyed(s.cache)).map((s) => s.id);
  if (keyed.length > 0) throw new UsageError(`secbuild bake does not apply cache policies yet (secret ${keyed.map((id) => `"${id}"`).join(', ')}); remove the cache: key for a bake, or build with secbuild build.`);
  const sshSpecs = secretPlan.specs.filter(isSshSpec);
  if (sshSpecs.length > 0) warn('secbuild bake does not forward ssh keys yet: the ssh: entries of the config are not used; list them in the target\'s ssh instead.');
  const specs = secretPlan.specs.filter((s) => !isSshSpec(s));
  const engine = await chooseEngine(args, env);
  if (engine.name !== 'docker') throw new UsageError('secbuild bake runs docker buildx bake; podman has no bake. Drop --engine podman / SECBUILD_ENGINE=podman.');
  const docker = engine.bin;
  const childEnv = addressDaemon(engine.name, secretPlan.childEnv, args);

  // The plan: bake resolves its own files (cached while they and the variables they read are unchanged; ./bake-plan.ts).
  const bake = await bakePlan(args, docker, childEnv, cwd, env);
  const { targets, shown } = bake;
  if (targets.length === 0) {
    info(`bake resolves no target${args.targets.length ? ` for ${args.targets.join(', ')}` : ''}; there is nothing to build.`);
    return undefined;
  }

  const provided = new Set(specs.filter((s) => s.mount).map((s) => s.id));
  const inputs = new Set(specs.filter((s) => !s.mount).map((s) => s.id));
  let scans = new Map<string, TargetScan>();
  let report: Report | undefined;
  let verifyPlan: import('./bake-verify.js').BakeVerifyPlan | undefined;
  const wanted = (t: BakeTarget) => new Set([...t.secret.map(secretEntryId).filter((id): id is string => id !== undefined), ...(scans.get(t.name)?.mounted ?? [])]);
  /** Each target's files: secbuild's secrets its list names or its Dockerfile mounts. */
  const served = (files: readonly SecretFile[]) => new Map(targets.map((t) => [t.name, files.filter((f) => wanted(t).has(f.id))]));
  const argvFor = (files: readonly SecretFile[]) => bakeArgv(args.bakeArgs, targets, served(files), args.targets);

  return {
    options: args,
    childEnv,
    specs,
    engine,
    async preflight() {
      const { preflightTargets } = await import('./bake-preflight.js');
      scans = await preflightTargets(targets, provided, env, cwd, () => askDocker(docker, args.bakeArgs, childEnv));
      const mount = [...inputs].filter((id) => [...scans.values()].some((s) => s.mounted.has(id)));
      return { checked: [...scans.values()].some((s) => s.dockerfile !== undefined), findings: [], mount };
    },
    async detect(r) {
      report = r;
      r.engine = { docker };
      // --verify: where each target's image lands and whether it can be searched, decided before the bake.
      if (args.verify) verifyPlan = await (await import('./bake-verify.js')).planBakeVerify(docker, args.bakeArgs, targets, childEnv);
    },
    buildArgs: () =>
      targets.map((t) => ({
        scope: `target "${t.name}"`,
        args: [
          ...Object.entries(t.args).map(([name, value]) => ({ name, value, fromEnv: false })),
          ...Object.entries(t.labels).map(([name, value]) => ({ flag: '--label' as const, name, value, fromEnv: false })),
        ],
      })),
    provenanceMax: wantsProvenanceMax(args.bakeArgs) || targets.some((t) => t.attest.some((a) => /type=provenance/.test(a) && /mode=max/.test(a))),
    plainProgress() {
      if (args.progress) return;
      args.progress = 'plain';
      args.bakeArgs.push('--progress', 'plain');
    },
    beforeRun(resolution) {
      // The preflight and the build-arg guard passed: the plan may be reused by the next run.
      bake.save();
      const ids = resolution.secrets.map((s) => ({ id: s.id, path: '' }));
      const per = served(ids);
      const unused = ids.filter((f) => ![...per.values()].some((fs) => fs.some((x) => x.id === f.id))).map((f) => `"${f.id}"`);
      if (unused.length > 0) warn(`secret${unused.length > 1 ? 's' : ''} ${unused.join(', ')}: no target lists ${unused.length > 1 ? 'them' : 'it'} in its secret entries or mounts ${unused.length > 1 ? 'them' : 'it'}; not handed to bake.`);
      if (report) report.targets = targets.map((t) => ({ target: t.name, ...(scans.get(t.name)?.dockerfile ? { dockerfile: scans.get(t.name)!.dockerfile } : {}), secrets: per.get(t.name)!.map((f) => f.id) }));
    },
    dryRun(files, dir) {
      const per = served(files);
      const out = [`bake: ${targets.length} target${targets.length > 1 ? 's' : ''} (${shown})`];
      for (const t of targets) {
        const mine = per.get(t.name)!;
        const own = t.secret.filter((e) => !mine.some((f) => f.id === secretEntryId(e)));
        const parts = [
          `context ${t.context}`,
          `Dockerfile ${scans.get(t.name)?.dockerfile ?? '(not read)'}`,
          ...(t.target ? [`target ${t.target}`] : []),
          `secbuild secrets ${mine.length ? mine.map((f) => `${f.id} (${f.path})`).join(', ') : 'none'}`,
          ...(own.length ? [`bake's own ${own.join(' ; ')}`] : []),
        ];
        out.push(`  target ${t.name}: ${parts.join(', ')}`);
      }
      out.push(`${daemonPrefix(args)}${engine.dryRunPrefix(dir)}${shellQuote([docker, ...argvFor(files)])}`);
      return out;
    },
    async run(ctx) {
      const verify = verifyPlan && (await import('./bake-verify.js')).startBakeVerify(verifyPlan, args.bakeArgs, targets, ctx.dir, cwd);
      const code = await ctx.docker(bakeArgv([...args.bakeArgs, ...(verify?.args ?? [])], targets, served(ctx.files), args.targets));
      if (code !== 0) throw new DockerExit(code);
      return verify?.built();
    },
  };
}
