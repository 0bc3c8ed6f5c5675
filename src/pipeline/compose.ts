/**
 * `secbuild compose build` as a pipeline job: read the compose files, work out
 * which services build with which secrets, preflight each service's
 * Dockerfile, and build — through Compose v2 with a one-off override file, or,
 * where Compose v2 is missing, with one `docker build` per service. A service
 * whose secrets have a cache policy builds from a derived Dockerfile with the
 * policies' build-args (./cache-args.ts), in the override or the direct argv.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ComposeArgs } from '../args/compose.js';
import { composeArgv, composeOverride, directBuildArgv, serviceFiles } from '../engines/compose/argv.js';
import { chooseComposeEngine, supportsOverrideTag, type ComposeEngineChoice } from '../engines/compose/detect.js';
import { overrideId, runCompose } from '../engines/compose/engine-compose.js';
import { runDirect } from '../engines/compose/engine-direct.js';
import { loadProject, type Project } from '../engines/compose/files.js';
import { effectiveArgs, selectBuilds, type ServiceBuild } from '../engines/compose/plan.js';
import { checkSecretVariables, composeSecrets } from '../engines/compose/secrets.js';
import { shellQuote } from '../engines/docker/argv.js';
import { chooseEngine } from '../engines/select.js';
import { wantsProvenanceMax } from '../guards/build-args.js';
import type { SecretFile } from '../run/rundir.js';
import { childEnvFor, planSpecs } from '../secrets/plan.js';
import { sensitiveEnvVars } from '../secrets/resolve.js';
import { checkSshConflicts, isSshSpec } from '../secrets/ssh.js';
import { isKeyed } from '../secrets/cache-policy.js';
import type { Resolution } from '../secrets/resolve.js';
import { Secret } from '../secrets/secret.js';
import { UsageError } from '../util/errors.js';
import type { CacheArgs, ReadDockerfile } from './cache-args.js';
import { info, warn } from '../util/log.js';
import { preflightServices } from './compose-preflight.js';
import { askDocker } from './preflight.js';
import { addressDaemon } from '../engines/docker/daemon.js';
import type { Job } from './run.js';

/**
 * A secret no one defines, while the project directory holds a secbuild.yml
 * that was not read (compose run from elsewhere): say so, as build does for
 * a context (src/pipeline/preflight.ts).
 */
function withConfigHint<T>(run: () => T, projectDir: string, configPath: string | undefined): T {
  try {
    return run();
  } catch (err) {
    if (!(err instanceof UsageError) || !err.message.includes('which neither secbuild')) throw err;
    const beside = ['secbuild.yml', 'secbuild.yaml'].map((n) => join(projectDir, n)).find((p) => p !== configPath && existsSync(p));
    if (!beside) throw err;
    throw new UsageError(`${err.message}\n${beside} sits next to the compose file but was not read (secbuild reads ./secbuild.yml of the working directory); run from that directory or pass --config ${beside}.`, { cause: err });
  }
}

/** The compose job, or undefined when there is nothing to build (said in one line). */
export async function composeJob(args: ComposeArgs): Promise<Job | undefined> {
  const env = process.env;
  const cwd = process.cwd();
  const plan = await planSpecs(args, env, cwd);
  const project = await loadProject(args, cwd, env);
  const profiles = args.profiles.length > 0 ? args.profiles : (project.env.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const { builds, withoutBuild } = selectBuilds(project, { services: args.services, profiles, withDependencies: args.withDependencies, separator: args.compatibility ? '_' : '-' });
  for (const s of withoutBuild) if (args.services.includes(s)) info(`service "${s}" has no build: section; there is nothing to build for it.`);
  if (builds.length === 0) {
    info(`no service to build in ${project.shownFiles.join(' + ')}${profiles.length ? ` with profiles ${profiles.join(', ')}` : ''}.`);
    return undefined;
  }
  for (const b of builds) for (const n of b.notes) warn(n);

  const engine = await chooseEngine(args, env);
  const docker = engine.bin;
  const secrets = withConfigHint(() => composeSecrets(project, builds, plan.specs), project.dir, plan.configPath);
  // --context / -H: Compose and every docker child address that daemon (src/engines/docker/daemon.ts).
  const childEnv = addressDaemon(engine.name, childEnvFor(env, [...plan.specs, ...secrets.specs]), args);
  const sensitive = sensitiveEnvVars([...plan.specs, ...secrets.specs]);
  const choice = engine.name === 'podman' ? podmanChoice(args.engine) : await chooseComposeEngine(docker, childEnv, args.engine);
  // A dry run prints the engine and why in its plan (planLines below), on stdout: not twice.
  if (!args.dryRun) info(`compose engine: ${choice.engine} (${choice.why})`);
  if (choice.engine === 'direct') refuseForDirect(args, builds);
  for (const n of secrets.notes) info(n);
  if (secrets.ungranted.length > 0) {
    const many = secrets.ungranted.length > 1;
    warn(`secret${many ? 's' : ''} ${secrets.ungranted.map((s) => `"${s}"`).join(', ')} ${many ? 'are' : 'is'} provided but no service grants ${many ? 'them' : 'it'} under build.secrets; not handed to docker.`);
  }
  checkSecretVariables(project, builds, sensitive);
  // A bare --build-arg VAR reads $VAR (a secret's source, perhaps): the guard sees the value and refuses it (exit 4).
  const fromEnv = new Set(args.cliBuildArgs.filter(([, v]) => v === null).map(([k]) => k));

  const argsOf = (b: ServiceBuild) => effectiveArgs(b, args.cliBuildArgs, project.env);
  const pathsOf = (files: readonly SecretFile[]) => new Map(files.map((f) => [f.id, f.path]));
  // Cache policies, per service: the Dockerfile each read in the preflight, what derives from it, and where it is written.
  let read = new Map<string, ReadDockerfile>();
  const caches = new Map<string, CacheArgs>();
  let cacheMod: typeof import('./cache-args.js') | undefined;
  const derivedAt = (dir: string) =>
    new Map([...caches].map(([service, c], i) => [service, { dockerfile: `${dir}/dockerfile-${i}/${c.name}`, args: c.values }]));
  let derived = new Map<string, { dockerfile: string; args: ReadonlyArray<[string, string]> }>();
  // secbuild's ssh keys (--ssh-key, secbuild.yml ssh:): a service's build.ssh entry naming the id gets its agent.
  const sshKeys = plan.specs.filter(isSshSpec);
  checkSshConflicts(sshKeys, args.ssh);
  const sshIds = new Set(sshKeys.map((s) => s.ssh));
  const unnamed = [...sshIds].filter((id) => !builds.some((b) => b.ssh.some((e) => e.trim() === id)));
  if (unnamed.length > 0) warn(`ssh id${unnamed.length > 1 ? 's' : ''} ${unnamed.map((i) => `"${i}"`).join(', ')} ${unnamed.length > 1 ? 'have keys' : 'has a key'} but no service names ${unnamed.length > 1 ? 'them' : 'it'} under build.ssh; add "- ID" there to forward it.`);
  const socketsOf = (ssh: readonly string[]) => new Map(ssh.map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]));
  const directArgv = (b: ServiceBuild, files: readonly SecretFile[], ssh: readonly string[]) => {
    const d = derived.get(b.service);
    return directBuildArgv(d ? { ...b, dockerfile: d.dockerfile } : b, serviceFiles(b.grants, pathsOf(files)), {
      project: project.name, args: [...argsOf(b), ...(d?.args ?? [])], noCache: args.noCache, pull: args.pull, quiet: args.quiet, progress: engine.plainProgressFlag ? args.progress : undefined, ssh: args.ssh, sockets: socketsOf(ssh),
    }, engine.buildArgv);
  };
  const overrideFor = (files: readonly SecretFile[], ssh: readonly string[]) => composeOverride({ builds, pathOf: pathsOf(files), composeDefs: secrets.composeDefs, derived, sockets: socketsOf(ssh) });
  const policyOf = (source: string | undefined) => secrets.specs.find((s) => s.id === source)?.cache;
  /** Each service's secrets under the ids its RUNs mount, and their policies. */
  async function prepareCaches(resolution: Resolution): Promise<void> {
    if (!resolution.secrets.some((s) => isKeyed(policyOf(s.id)))) return;
    cacheMod = await import('./cache-args.js');
    for (const b of builds) {
      const granted = b.grants.flatMap((g) => {
        const s = resolution.secrets.find((x) => x.id === g.source);
        return s ? [new Secret(g.id, s.source, s.value)] : [];
      });
      const c = await cacheMod.cacheArgs({
        secrets: granted,
        policyOf: (id) => policyOf(b.grants.find((g) => g.id === id)?.source),
        dockerfile: read.get(b.service),
        skip: `the build context of service "${b.service}" is remote (${b.context})`,
        env,
        childEnv,
        dryRun: args.dryRun,
        label: `service "${b.service}": `,
      });
      if (c) caches.set(b.service, c);
    }
  }
  const composeFor = (override: string) =>
    composeArgv({ globalArgs: args.globalArgs, files: project.files, override, parallel: args.parallel, buildArgs: args.buildArgs, services: args.services, progress: args.progress, version: choice.version });

  return {
    options: args,
    childEnv,
    specs: [...secrets.specs, ...sshKeys],
    engine,
    async preflight() {
      read = await preflightServices(builds, args.cliBuildArgs, project.env, args.ssh, engine.name === 'podman' ? undefined : () => askDocker(docker, [], childEnv));
      return { checked: true, findings: [] };
    },
    async detect(report) {
      report.engine = { docker, compose: choice.engine };
      if (choice.engine !== 'direct') return;
      const { docker: _bin, ...facts } = await engine.detect(childEnv);
      Object.assign(report.engine, facts);
    },
    buildArgs: () =>
      builds.map((b) => ({
        scope: `service "${b.service}"`,
        args: [
          ...argsOf(b).map(([name, value]) => ({ name, value, fromEnv: fromEnv.has(name) })),
          ...[...b.labels].map(([name, value]) => ({ flag: '--label' as const, name, value, fromEnv: false })),
        ],
      })),
    provenanceMax: wantsProvenanceMax(args.buildArgs),
    plainProgress() {
      // On a terminal docker draws its own progress; through the redactor it must print plain lines.
      if (args.progress || !engine.plainProgressFlag) return;
      args.progress = 'plain';
    },
    async beforeRun(resolution) {
      await prepareCaches(resolution);
      if (choice.engine !== 'compose') return;
      const { tagged } = overrideFor(resolution.secrets.map((s) => ({ id: s.id, path: '' })), [...sshIds].map((id) => `${id}=`));
      if (tagged.length > 0 && !supportsOverrideTag(choice.version)) {
        throw new UsageError(
          `Compose v${choice.version} cannot replace ${tagged.join(', ')} from an override file (the !override tag needs Compose 2.24.4 or later); update Compose, or run with --engine direct.`,
        );
      }
    },
    dryRun(files, dir, ssh) {
      derived = derivedAt(dir);
      const out = [...planLines(project, choice, builds, pathsOf(files))];
      if (choice.engine === 'compose') {
        const override = `${dir}/00-${overrideId(files.map((f) => f.id))}`;
        out.push(`override file ${override}:`, overrideFor(files, ssh).text.trimEnd(), `DOCKER_BUILDKIT=1 ${shellQuote([docker, ...composeFor(override)])}`);
      } else {
        builds.forEach((b, i) => out.push(`${engine.dryRunPrefix(dir, i + 1)}${shellQuote([docker, ...directArgv(b, files, ssh)])}`));
      }
      return out;
    },
    async run(ctx) {
      [...caches.values()].forEach((c, i) => ctx.writeNamed(`dockerfile-${i}`, cacheMod!.derivedFiles(c)));
      derived = derivedAt(ctx.dir);
      // docker's messages name the user's Dockerfile and line: per service, or for the one derived file of a compose run.
      const rewrite = (service: string | undefined) => {
        const c = service === undefined ? (caches.size === 1 ? [...caches.values()][0] : undefined) : caches.get(service);
        return c && cacheMod!.lineRewrite(c);
      };
      if (choice.engine === 'compose') {
        // Compose v2 writes build's progress (the RUNs' output) to stdout; only `build --print` writes data there.
        const printsToStdout = args.buildArgs.includes('--print');
        const ids = ctx.files.map((f) => f.id);
        await runCompose({ secretIds: ids, overrideText: overrideFor(ctx.files, ctx.ssh).text, argvFor: composeFor, write: ctx.write, docker: (argv) => ctx.docker(argv, undefined, { rewrite: rewrite(undefined), stdoutToStderr: !printsToStdout }) });
      } else {
        await runDirect({ builds, parallel: args.parallel ?? 1, argvFor: (b) => directArgv(b, ctx.files, ctx.ssh), docker: (argv, service) => ctx.docker(argv, service, { rewrite: rewrite(service) }) });
      }
      return undefined;
    },
  };
}

/** With podman a project is always built by the direct engine: Compose v2 drives docker's builder. */
function podmanChoice(forced: 'compose' | 'direct' | undefined): ComposeEngineChoice {
  if (forced === 'compose') {
    throw new UsageError('--engine compose builds through `docker compose`, which podman cannot drive with secbuild\'s secrets; with podman secbuild runs one podman build per service (the direct engine): drop --engine compose.');
  }
  return { engine: 'direct', why: 'podman builds each service with one podman build, in depends_on order' };
}

/** The direct engine refuses what it cannot build the way Compose would, naming the key and the way out. */
function refuseForDirect(args: ComposeArgs, builds: readonly ServiceBuild[]): void {
  const lines: string[] = [];
  for (const b of builds) {
    for (const key of b.unsupported) lines.push(`${b.files.join(' + ')}: ${key} is not supported by the direct engine (it runs docker build per service).`);
  }
  for (const opt of new Set(args.directUnsupported)) lines.push(`build option ${opt} is not supported by the direct engine.`);
  if (lines.length === 0) return;
  lines.push('Remove it, or build with Compose v2: install the docker compose plugin (Compose 2.x) and run with --engine compose.');
  throw new UsageError(lines.join('\n'));
}

function* planLines(project: Project, choice: ComposeEngineChoice, builds: readonly ServiceBuild[], pathOf: ReadonlyMap<string, string>): Generator<string> {
  yield `project "${project.name}" (${project.shownFiles.join(' + ')}), engine ${choice.engine}: ${choice.why}`;
  for (const b of builds) {
    const ids = b.grants.filter((g) => pathOf.has(g.source)).map((g) => (g.id === g.source ? g.id : `${g.id} (from ${g.source})`));
    const parts = [`context ${b.context}`, `Dockerfile ${b.dockerfile ?? '(default)'}`, ...(b.target ? [`target ${b.target}`] : []), `tag ${b.image}`, `secrets ${ids.length ? ids.join(', ') : 'none'}`];
    yield `  service ${b.service}: ${parts.join(', ')}`;
  }
}
