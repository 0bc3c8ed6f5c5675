/**
 * `secbuild compose up` and `secbuild compose down` as pipeline jobs: the
 * run-time secrets of the selected services (src/engines/compose/run-secrets.ts)
 * resolved like a build's, written to the private run directory with the
 * owner and mode each service asks for, and handed to Compose v2 in a one-off
 * override that makes each a `file:` secret on that file (Compose bind-mounts
 * it read-only at /run/secrets/NAME or the long syntax's target).
 * - foreground `up`: the files live while it runs; Ctrl-C reaches Compose,
 *   which stops the containers; after a failure secbuild stops what still
 *   runs of this run (the containers with its label, src/run/keeper.ts
 *   RUN_LABEL); when secbuild is killed the watchdog's reaper stops them
 *   before the files go;
 * - `up -d` (or `--wait`): a keeper (src/run/keeper.ts) holds the directory
 *   until the project has no containers; `secbuild compose down` runs
 *   `docker compose down` and removes the kept directory at once.
 * A daemon on another machine is refused (src/engines/docker/local.ts).
 */
import { basename, dirname, join, resolve } from 'node:path';
import type { ComposeArgs } from '../args/compose.js';
import { composeRunArgv, runtimeOverride } from '../engines/compose/argv.js';
import { chooseComposeEngine, supportsOverrideTag } from '../engines/compose/detect.js';
import { overrideId } from '../engines/compose/engine-compose.js';
import { loadProject, type Project } from '../engines/compose/files.js';
import { activeByProfile } from '../engines/compose/plan.js';
import { isObj } from '../engines/compose/merge.js';
import { checkRuntimeVariables, DEFAULT_OWNERSHIP, envFilesOf, runSecrets, serviceConfigValues, servicesMounting } from '../engines/compose/run-secrets.js';
import { shellQuote } from '../engines/docker/argv.js';
import { addressDaemon, daemonPrefix } from '../engines/docker/daemon.js';
import { findDocker } from '../engines/docker/detect.js';
import { dockerEngine } from '../engines/docker/engine.js';
import { requireLocalDaemon } from '../engines/docker/local.js';
import { stopArgv, stopScript } from '../engines/docker/run-argv.js';
import type { ChildEnv } from '../run/env.js';
import { capture } from '../run/exec.js';
import { KEPT_PROJECT_FILE, releaseProject, runContainersFilter } from '../run/keeper.js';
import { setOwnership } from '../run/file-owner.js';
import { writeExclusive } from '../run/rundir.js';
import { octal } from '../secrets/ownership.js';
import { childEnvFor, planSpecs } from '../secrets/plan.js';
import { sensitiveEnvVars } from '../secrets/resolve.js';
import { DockerExit, UsageError } from '../util/errors.js';
import { info } from '../util/log.js';
import { readToCheck } from '../util/read.js';
import type { Job } from './run.js';
import { runtimeJob } from './runtime-job.js';

/** What up and down share: the project, docker (never podman), the refusal of a remote daemon. */
async function prepare(args: ComposeArgs) {
  if (args.builder === 'podman' || args.podman !== undefined) {
    throw new UsageError(`secbuild compose ${args.command} runs Compose v2 on docker; podman is not supported for run-time secrets.`);
  }
  const env = process.env;
  const cwd = process.cwd();
  const plan = await planSpecs(args, env, cwd);
  const project = await loadProject(args, cwd, env);
  requireLocalDaemon(env, args, `secbuild compose ${args.command}`);
  const engine = dockerEngine(findDocker(args.docker, env));
  return { env, plan, project, engine };
}

/** Stops the running containers of `project` that mount run `run`'s files (after a failed or interrupted up): not the project's others. */
async function stopProject(docker: string, project: string, run: string, env: ChildEnv): Promise<void> {
  const ps = await capture(docker, ['ps', '-q', ...runContainersFilter(project, run)], { env, timeoutMs: 20_000 });
  const ids = ps.stdout.toString('utf8').split('\n').filter((l) => /^[0-9a-f]{12,64}$/.test(l));
  if (ids.length > 0) await capture(docker, stopArgv(ids), { env, timeoutMs: 30_000 });
}

function selected(project: Project, args: ComposeArgs): string[] {
  const all = isObj(project.model.services) ? project.model.services : {};
  const names = Object.keys(all);
  for (const s of args.services) if (!names.includes(s)) throw new UsageError(`no such service: "${s}"; the compose files define ${names.join(', ') || 'no services'}.`);
  if (args.services.length > 0) return args.services;
  const profiles = args.profiles.length > 0 ? args.profiles : (project.env.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return names.filter((n) => activeByProfile(all[n], profiles));
}

/** The services a service needs started first, as Compose reads them (compose-go GetDependencies): depends_on, links, volumes_from, network_mode/ipc/pid `service:`. */
function dependenciesOf(def: unknown): string[] {
  if (!isObj(def)) return [];
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  const out = Array.isArray(def.depends_on) ? def.depends_on.map(String) : isObj(def.depends_on) ? Object.keys(def.depends_on) : [];
  out.push(...list(def.links).map((l) => l.split(':')[0]!));
  out.push(...list(def.volumes_from).filter((v) => !v.startsWith('container:')).map((v) => v.replace(/^service:/, '').split(':')[0]!));
  for (const k of ['network_mode', 'ipc', 'pid']) if (typeof def[k] === 'string' && def[k].startsWith('service:')) out.push(def[k].slice('service:'.length));
  return out;
}

/**
 * The services `compose up` starts: the selected ones and, unless --no-deps,
 * every service they depend on — each mounts its secrets, which secbuild must
 * provide (else Compose's own `environment:` source would copy the value into
 * the container's writable layer). `extends` and a top-level `include:` are
 * refused: secbuild reads the compose files itself and would not see the
 * secrets a service inherits or an included file defines.
 */
function startedServices(project: Project, args: ComposeArgs): string[] {
  if (project.model.include !== undefined) {
    throw new UsageError(`${project.shownFiles.join(' + ')}: include: is not supported by secbuild compose up (it reads compose files itself and would miss the included services' secrets); pass the files with -f instead.`);
  }
  const all = isObj(project.model.services) ? project.model.services : {};
  const chosen = selected(project, args);
  const noDeps = args.runArgs.some((a) => /^--no-deps(=(true|1))?$/i.test(a));
  const out = new Set<string>();
  const visit = (s: string) => {
    if (out.has(s) || !(s in all)) return;
    out.add(s);
    if (!noDeps) dependenciesOf(all[s]).forEach(visit);
  };
  chosen.forEach(visit);
  const extended = [...out].filter((s) => isObj(all[s]) && (all[s] as Record<string, unknown>).extends !== undefined);
  if (extended.length > 0) {
    throw new UsageError(`${extended.map((s) => `services.${s}.extends`).join(', ')} is not supported by secbuild compose up (it reads compose files itself and would miss an inherited secret); inline the extended service's keys.`);
  }
  return [...out];
}

export async function composeUpJob(args: ComposeArgs): Promise<Job> {
  const { env, plan, project, engine } = await prepare(args);
  const services = startedServices(project, args);
  // Each selected service's env_file: lands in its container's config: read (bounded, regular files) for the guard.
  const envFileTexts = new Map<string, string>();
  for (const s of services) {
    for (const file of envFilesOf((project.model.services as Record<string, unknown>)[s])) {
      const path = resolve(project.dir, file);
      const text = envFileTexts.has(path) ? undefined : await readToCheck(`services.${s}.env_file ${file}`, path);
      if (text !== undefined) envFileTexts.set(path, text);
    }
  }
  // Compose's defaults (uid 0, gid 0, mode 0444), but the invoking user's own uid and gid: only root can give a file away.
  const secrets = runSecrets(project, services, plan.specs, { ...DEFAULT_OWNERSHIP, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 });
  const sensitive = sensitiveEnvVars([...plan.specs, ...secrets.specs]);
  checkRuntimeVariables(project, services, sensitive);
  const childEnv = addressDaemon('docker', childEnvFor(env, [...plan.specs, ...secrets.specs]), args);
  const pathsOf = (files: ReadonlyArray<{ id: string; path: string }>) => new Map(files.map((f) => [f.id, f.path]));
  // Each service that mounts a file of this run carries the run directory's name (RUN_LABEL): recreated on the new files, waited for by the keeper.
  const overrideOf = (files: ReadonlyArray<{ id: string; path: string }>, dir: string) =>
    runtimeOverride(pathsOf(files), secrets.composeDefs, { services: servicesMounting(project, new Set(files.map((f) => f.id))), run: basename(dir) });
  const argvFor = (override: string) => composeRunArgv({ globalArgs: args.globalArgs, files: project.files, override, command: 'up', args: args.runArgs, services: args.services });
  for (const n of secrets.notes) info(n);
  return {
    ...runtimeJob({ options: args, childEnv, specs: secrets.specs, engine, compose: true }),
    // A service's environment:/labels:/env_file: land in its container's config (docker inspect): the build-arg guard refuses a secret there.
    buildArgs: () => [{ args: serviceConfigValues(project, services, envFileTexts) }],
    async beforeRun(resolution) {
      // Compose's version matters only to a definition the override must replace: asked only then (one docker process less).
      const { tagged } = runtimeOverride(pathsOf(resolution.secrets.map((s) => ({ id: s.id, path: '' }))), secrets.composeDefs);
      if (tagged.length === 0) return;
      const { version } = await chooseComposeEngine(engine.bin, childEnv, 'compose');
      if (!supportsOverrideTag(version)) {
        throw new UsageError(`Compose v${version} cannot replace ${tagged.join(', ')} from an override file (the !override tag needs Compose 2.24.4 or later); update Compose.`);
      }
    },
    dryRun(files, dir) {
      const override = `${dir}/00-${overrideId(files.map((f) => f.id))}`;
      return [
        `project "${project.name}" (${project.shownFiles.join(' + ')}), services ${services.join(', ') || '(none)'}`,
        ...files.map((f) => {
          const o = secrets.ownership.get(f.id)!;
          return `  secret ${f.id}: ${f.path}, uid ${o.uid}, gid ${o.gid}, mode ${octal(o.mode)}`;
        }),
        `override file ${override}:`,
        overrideOf(files, dir).text.trimEnd(),
        `${daemonPrefix(args)}${shellQuote([engine.bin, ...argvFor(override)])}`,
        ...(args.detach ? [`then: a keeper holds ${dir} until project "${project.name}" has no containers (secbuild compose down)`] : []),
      ];
    },
    async run(ctx) {
      // This run's label value (RUN_LABEL): the run directory's name.
      const run = basename(ctx.dir);
      const stopOurs = () => stopProject(engine.bin, project.name, run, ctx.env);
      for (const f of ctx.files) {
        const o = secrets.ownership.get(f.id);
        if (!o) continue;
        // Compose bind-mounts the file as it is: its owner and mode are what the service sees.
        setOwnership(f.path, f.id, o);
      }
      const override = ctx.write(overrideId(ctx.files.map((f) => f.id)), overrideOf(ctx.files, ctx.dir).text);
      writeExclusive(join(ctx.dir, 'reap'), Buffer.from(stopScript({ docker: engine.bin, env: ctx.env, project: project.name, run })));
      if (args.detach) writeExclusive(join(ctx.dir, KEPT_PROJECT_FILE), Buffer.from(project.name));
      let code: number;
      try {
        code = await ctx.docker(argvFor(override));
      } catch (err) {
        await stopOurs();
        throw err;
      }
      if (code !== 0) {
        await stopOurs();
        throw new DockerExit(code);
      }
      if (args.detach) {
        try {
          await ctx.keep({ project: project.name, run });
        } catch (err) {
          await stopOurs();
          throw err;
        }
      }
      return undefined;
    },
  };
}

export async function composeDownJob(args: ComposeArgs): Promise<Job> {
  const { env, project, engine } = await prepare(args);
  const childEnv = addressDaemon('docker', childEnvFor(env, []), args);
  const argv = composeRunArgv({ globalArgs: args.globalArgs, files: project.files, command: 'down', args: args.runArgs, services: args.services });
  return {
    ...runtimeJob({ options: args, childEnv, specs: [], engine, compose: true }),
    dryRun: (_files, dir) => [`${daemonPrefix(args)}${shellQuote([engine.bin, ...argv])}`, `then: remove the run directories under ${dirname(dir)} kept for project "${project.name}"`],
    async run(ctx) {
      const code = await ctx.docker(argv);
      if (code !== 0) throw new DockerExit(code);
      // A directory whose containers remain (down SERVICE) stays with its keeper.
      const inUse = async (run: string) => {
        const ps = await capture(engine.bin, ['ps', '-aq', ...runContainersFilter(project.name, run)], { env: ctx.env, timeoutMs: 20_000 });
        return ps.exitCode !== 0 || ps.stdout.toString('utf8').trim() !== '';
      };
      const removed = await releaseProject(dirname(ctx.dir), project.name, inUse);
      if (removed.length > 0) info(`removed the secret files kept for project "${project.name}" (${removed.join(', ')}).`);
      return undefined;
    },
  };
}
