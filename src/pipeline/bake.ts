/**
 * `secbuild bake` as a pipeline job: bake itself resolves the targets
 * (`docker buildx bake --print` with the user's -f, --set and targets, run
 * through the exec seam with the run's child environment, and remembered
 * while its inputs are unchanged: ./bake-plan.ts); each target's Dockerfile
 * is preflighted (./bake-preflight.ts); each secret secbuild provides is
 * served from the run directory to the targets whose `secret` list names its
 * id or whose Dockerfile mounts it, by `--set TARGET.secrets=…`
 * (src/engines/docker/bake.ts says why), and each ssh id's agent likewise by
 * `--set TARGET.ssh=ID=SOCKET`. A cache policy gives each target that mounts
 * the secret a derived Dockerfile (./cache-args.ts, as build and compose).
 * One bake, masked, in one run directory.
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
import { dockerSshIds, isSshSpec } from '../secrets/ssh.js';
import { DockerExit, UsageError } from '../util/errors.js';
import { info, warn } from '../util/log.js';
import { bakePlan } from './bake-plan.js';
import type { TargetScan } from './bake-preflight.js';
import { askDocker } from './preflight.js';
import type { CacheArgs } from './cache-args.js';
import type { Report } from './report.js';
import type { Job } from './run.js';

/** The bake job, or undefined when bake resolves no target (said in one line). */
export async function bakeJob(args: BakeArgs): Promise<Job | undefined> {
  const env = process.env;
  const cwd = process.cwd();
  checkSecretSets(args.sets);
  const secretPlan = await planSpecs(args, env, cwd);
  const sshSpecs = secretPlan.specs.filter(isSshSpec);
  const specs = secretPlan.specs.filter((s) => !isSshSpec(s));
  const sshIds = new Set(sshSpecs.map((s) => s.ssh));
  const engine = await chooseEngine(args, env);
  if (engine.name !== 'docker') throw new UsageError('secbuild bake runs docker buildx bake; podman has no bake. Drop --engine podman / SECBUILD_ENGINE=podman.');
  const docker = engine.bin;
  const childEnv = addressDaemon(engine.name, secretPlan.childEnv, args);

  // The plan: bake resolves its own files (cached while they and the variables they read are unchanged; ./bake-plan.ts).
  const bake = await bakePlan(args, docker, childEnv, cwd, env, specs.map((s) => s.id));
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
  /** Each target's agents: secbuild's ssh ids its ssh list names or its Dockerfile mounts (`ID=SOCKET`). */
  const agents = (ssh: readonly string[]) =>
    new Map(targets.map((t) => [t.name, ssh.filter((a) => wantedSsh(t).has(a.slice(0, a.indexOf('='))))]));
  const wantedSsh = (t: BakeTarget) => new Set([...dockerSshIds(t.ssh), ...(scans.get(t.name)?.sshMounted ?? [])]);
  /** A cache policy's words per target: its derived Dockerfile (written under `dir`) and the args that carry the policy. */
  const caches = new Map<string, CacheArgs>();
  let cacheMod: typeof import('./cache-args.js') | undefined;
  const cacheSets = (dir: string) =>
    [...caches].flatMap(([name, c], i) => [`${name}.dockerfile=${dir}/dockerfile-${i}/${c.name}`, ...c.values.map(([arg, v]) => `${name}.args.${arg}=${v}`)]);
  const argvFor = (files: readonly SecretFile[], ssh: readonly string[], dir: string, more: readonly string[] = []) =>
    bakeArgv([...args.bakeArgs, ...more], targets, served(files), args.targets, { ssh: agents(ssh), sets: cacheSets(dir) });

  return {
    options: args,
    childEnv,
    specs: [...specs, ...sshSpecs],
    engine,
    async preflight() {
      const { preflightTargets } = await import('./bake-preflight.js');
      scans = await preflightTargets(targets, provided, sshIds, env, cwd, () => askDocker(docker, args.bakeArgs, childEnv));
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
          ...(t.dockerfileInline === undefined ? [] : [{ flag: 'dockerfile-inline', name: 'dockerfile-inline', value: t.dockerfileInline, fromEnv: false }]),
        ],
      })),
    provenanceMax: wantsProvenanceMax(args.bakeArgs) || targets.some((t) => t.attest.some((a) => /type=provenance/.test(a) && /mode=max/.test(a))),
    plainProgress() {
      if (args.progress) return;
      args.progress = 'plain';
      args.bakeArgs.push('--progress', 'plain');
    },
    async beforeRun(resolution) {
      // The preflight and the build-arg guard passed: the plan may be reused by the next run (never one holding a value).
      bake.save(resolution.values);
      const unforwarded = [...sshIds].filter((id) => !targets.some((t) => wantedSsh(t).has(id)));
      if (unforwarded.length > 0) warn(`ssh id${unforwarded.length > 1 ? 's' : ''} ${unforwarded.map((i) => `"${i}"`).join(', ')}: no target lists ${unforwarded.length > 1 ? 'them' : 'it'} in its ssh entries or mounts ${unforwarded.length > 1 ? 'them' : 'it'}; no agent is handed to bake.`);
      const policyOf = (id: string) => specs.find((s) => s.id === id)?.cache;
      if (resolution.secrets.some((s) => isKeyed(policyOf(s.id)))) {
        cacheMod = await import('./cache-args.js');
        for (const t of targets) {
          const scan = scans.get(t.name);
          const c = await cacheMod.cacheArgs({
            secrets: resolution.secrets.filter((s) => wanted(t).has(s.id)),
            policyOf,
            dockerfile: scan?.read,
            skip: t.dockerfileInline !== undefined ? `target "${t.name}" has an inline Dockerfile (dockerfile-inline)` : `the build context of target "${t.name}" is not a local directory (${t.context})`,
            env,
            childEnv,
            dryRun: args.dryRun,
            label: `target "${t.name}": `,
          });
          if (c) caches.set(t.name, c);
        }
      }
      const ids = resolution.secrets.map((s) => ({ id: s.id, path: '' }));
      const per = served(ids);
      const unused = ids.filter((f) => ![...per.values()].some((fs) => fs.some((x) => x.id === f.id))).map((f) => `"${f.id}"`);
      if (unused.length > 0) warn(`secret${unused.length > 1 ? 's' : ''} ${unused.join(', ')}: no target lists ${unused.length > 1 ? 'them' : 'it'} in its secret entries or mounts ${unused.length > 1 ? 'them' : 'it'}; not handed to bake.`);
      const sshOf = (t: BakeTarget) => [...sshIds].filter((id) => wantedSsh(t).has(id));
      if (report) report.targets = targets.map((t) => ({ target: t.name, ...(scans.get(t.name)?.dockerfile ? { dockerfile: scans.get(t.name)!.dockerfile } : {}), secrets: per.get(t.name)!.map((f) => f.id), ...(sshOf(t).length ? { ssh: sshOf(t) } : {}) }));
    },
    dryRun(files, dir, ssh) {
      const per = served(files);
      const perSsh = agents(ssh);
      const out = [`bake: ${targets.length} target${targets.length > 1 ? 's' : ''} (${shown})`];
      for (const t of targets) {
        const mine = per.get(t.name)!;
        const own = t.secret.filter((e) => !mine.some((f) => f.id === secretEntryId(e)));
        const parts = [
          `context ${t.context}`,
          `Dockerfile ${scans.get(t.name)?.dockerfile ?? '(not read)'}`,
          ...(t.target ? [`target ${t.target}`] : []),
          `secbuild secrets ${mine.length ? mine.map((f) => `${f.id} (${f.path})`).join(', ') : 'none'}`,
          ...(perSsh.get(t.name)!.length ? [`ssh agents ${perSsh.get(t.name)!.join(', ')}`] : []),
          ...(own.length ? [`bake's own ${own.join(' ; ')}`] : []),
        ];
        out.push(`  target ${t.name}: ${parts.join(', ')}`);
      }
      out.push(`${daemonPrefix(args)}${engine.dryRunPrefix(dir)}${shellQuote([docker, ...argvFor(files, ssh, dir)])}`);
      return out;
    },
    async run(ctx) {
      const verify = verifyPlan && (await import('./bake-verify.js')).startBakeVerify(verifyPlan, args.bakeArgs, targets, ctx.dir, cwd);
      [...caches.values()].forEach((c, i) => ctx.writeNamed(`dockerfile-${i}`, cacheMod!.derivedFiles(c)));
      // docker's messages name the user's Dockerfile and line when one target's Dockerfile was derived.
      const rewrite = caches.size === 1 ? cacheMod!.lineRewrite([...caches.values()][0]!) : undefined;
      const code = await ctx.docker(argvFor(ctx.files, ctx.ssh, ctx.dir, verify?.args), undefined, rewrite ? { rewrite } : {});
      if (code !== 0) throw new DockerExit(code);
      return verify?.built();
    },
  };
}
