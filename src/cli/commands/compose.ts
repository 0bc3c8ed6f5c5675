/**
 * `secbuild compose [compose options] build [build options] [SERVICE...]`:
 * read the compose files, work out which services build with which secrets,
 * preflight each service's Dockerfile, resolve the secrets once, write them to
 * one run directory and build — through Compose v2 with a one-off override
 * file, or, where Compose v2 is missing, with one `docker build` per service.
 */
import { shellQuote } from '../../engines/docker/argv.js';
import { composeArgv, composeOverride, directBuildArgv, serviceFiles } from '../../engines/compose/argv.js';
import { composeHelp, parseComposeArgs, type ComposeArgs } from '../../args/compose.js';
import { chooseComposeEngine, supportsOverrideTag, type ComposeEngineChoice } from '../../engines/compose/detect.js';
import { runCompose, overrideId } from '../../engines/compose/engine-compose.js';
import { runDirect } from '../../engines/compose/engine-direct.js';
import { loadProject, type Project } from '../../engines/compose/files.js';
import { effectiveArgs, selectBuilds, type ServiceBuild } from '../../engines/compose/plan.js';
import { preflightServices } from '../../pipeline/compose-preflight.js';
import { checkSecretVariables, composeSecrets } from '../../engines/compose/secrets.js';
import { onGitHubActions } from '../../guards/github.js';
import { detectEngine, findDocker } from '../../engines/docker/detect.js';
import { UsageError } from '../../util/errors.js';
import { guardBuildArgs, wantsProvenanceMax } from '../../guards/build-args.js';
import { endGroup, info, openGroup, warn } from '../../util/log.js';
import { tooShortToMask } from '../../secrets/forms.js';
import { planSpecs } from '../../secrets/plan.js';
import { newReport, reportSecrets, withReport, type Report } from '../../pipeline/report.js';
import { childEnvironment, resolveSpecs, sensitiveEnvVars } from '../../secrets/resolve.js';
import { chooseRoot, type SecretFile } from '../../run/rundir.js';
import { withSecretFiles } from '../../run/session.js';
import { mark } from '../../util/timing.js';
import { VERSION } from '../../util/version.js';
import { plannedFiles, prepareOutput } from '../../pipeline/output.js';

export async function composeCommand(argv: readonly string[]): Promise<number> {
  mark('start');
  const args = parseComposeArgs(argv);
  if (args.help) {
    process.stdout.write(composeHelp());
    return 0;
  }
  const report = newReport('compose', VERSION);
  report.runs = [];
  return withReport(report, args.report, (r) => compose(args, r));
}

async function compose(args: ComposeArgs, report: Report): Promise<number> {
  const env = process.env;
  const cwd = process.cwd();
  const gha = onGitHubActions(env);
  if (gha) openGroup();
  const plan = await planSpecs(args, env, cwd);
  const project = await loadProject(args, cwd, env);
  const profiles = args.profiles.length > 0 ? args.profiles : (project.env.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const { builds, withoutBuild } = selectBuilds(project, { services: args.services, profiles, withDependencies: args.withDependencies, separator: args.compatibility ? '_' : '-' });
  for (const s of withoutBuild) if (args.services.includes(s)) info(`service "${s}" has no build: section; there is nothing to build for it.`);
  if (builds.length === 0) {
    info(`no service to build in ${project.shownFiles.join(' + ')}${profiles.length ? ` with profiles ${profiles.join(', ')}` : ''}.`);
    return 0;
  }
  for (const b of builds) for (const n of b.notes) warn(n);

  const docker = findDocker(args.docker, env);
  const choice = await chooseComposeEngine(docker, env, args.engine);
  info(`compose engine: ${choice.engine} (${choice.why})`);
  report.engine = { docker, compose: choice.engine };
  if (choice.engine === 'direct') refuseForDirect(args, builds);

  const secrets = composeSecrets(project, builds, plan.specs);
  for (const n of secrets.notes) info(n);
  if (secrets.ungranted.length > 0) {
    warn(`secret${secrets.ungranted.length > 1 ? 's' : ''} ${secrets.ungranted.map((s) => `"${s}"`).join(', ')} ${secrets.ungranted.length > 1 ? 'are' : 'is'} provided but no service grants ${secrets.ungranted.length > 1 ? 'them' : 'it'} under build.secrets; not handed to docker.`);
  }
  const sensitive = sensitiveEnvVars([...plan.specs, ...secrets.specs]);
  const childEnv = childEnvironment(env, sensitive);
  checkSecretVariables(project, builds, sensitive);
  for (const [k, v] of args.cliBuildArgs) {
    if (v === null && sensitive.has(k)) throw new UsageError(`--build-arg ${k} takes its value from $${k}, which secbuild reads a secret from; a build-arg is recorded in the image. Mount it as a secret instead.`);
  }
  await preflightServices(builds, args.cliBuildArgs, project.env);
  report.preflight.checked = true;
  mark('preflight');

  const root = chooseRoot({ tmpdir: args.tmpdir, env, requireTmpfs: args.requireTmpfs });
  const [resolution, engine] = await Promise.all([
    resolveSpecs(secrets.specs, { env, childEnv }),
    choice.engine === 'direct' ? detectEngine(docker, env) : undefined,
  ]);
  // Core's leak guards, as for a build: masked output, ::add-mask:: on GitHub Actions, no secret in a build-arg.
  mark('resolve');
  if (engine) Object.assign(report.engine, { clientVersion: engine.clientVersion, buildkit: engine.buildkit });
  report.skipped = resolution.skipped;
  const { masking, patterns } = prepareOutput(resolution, root, args, gha);
  reportSecrets(report, resolution.values, resolution.secrets, (s) => masking && !tooShortToMask(s.value));
  report.masking.enabled = masking;
  const warnings = new Set<string>();
  for (const b of builds) {
    const buildArgs = effectiveArgs(b, args.cliBuildArgs, project.env).map(([name, value]) => ({ name, value, fromEnv: false }));
    guardBuildArgs(buildArgs, resolution.values, new Set(args.allowSecretBuildArg), wantsProvenanceMax(args.buildArgs)).warnings.forEach((w) => warnings.add(`service "${b.service}": ${w}`));
  }
  warnings.forEach((w) => warn(w));
  report.warnings.push(...warnings);
  // On a terminal docker draws its own progress; through the redactor it must print plain lines.
  if (masking && process.stderr.isTTY && !args.progress) {
    args.progress = 'plain';
    args.globalArgs.push('--progress', 'plain');
  }

  const ids = resolution.secrets.map((s) => s.id);
  const pathsOf = (files: readonly SecretFile[]) => new Map(files.map((f) => [f.id, f.path]));
  const directOpts = (b: ServiceBuild) => ({
    project: project.name,
    args: effectiveArgs(b, args.cliBuildArgs, project.env),
    noCache: args.noCache,
    pull: args.pull,
    quiet: args.quiet,
    progress: args.progress,
    ssh: args.ssh,
  });
  const overrideFor = (files: readonly SecretFile[]) => composeOverride({ builds, pathOf: pathsOf(files), composeDefs: secrets.composeDefs });
  const composeFor = (override: string) =>
    composeArgv({ globalArgs: args.globalArgs, files: project.files, override, parallel: args.parallel, buildArgs: args.buildArgs, services: args.services });

  if (choice.engine === 'compose') {
    const { tagged } = overrideFor(resolution.secrets.map((s) => ({ id: s.id, path: '' })));
    if (tagged.length > 0 && !supportsOverrideTag(choice.version)) {
      throw new UsageError(
        `Compose v${choice.version} cannot replace ${tagged.join(', ')} from an override file (the !override tag needs Compose 2.24.4 or later); update Compose, or run with --engine direct.`,
      );
    }
  }

  endGroup();
  if (args.dryRun) {
    const { dir, files } = plannedFiles(root.root, resolution.secrets);
    const out = [...planLines(project, choice, builds, pathsOf(files))];
    if (choice.engine === 'compose') {
      const override = `${dir}/00-${overrideId(ids)}`;
      out.push(`override file ${override}:`, overrideFor(files).text.trimEnd());
      out.push(`DOCKER_BUILDKIT=1 ${shellQuote([docker, ...composeFor(override)])}`);
    } else {
      for (const b of builds) out.push(`DOCKER_BUILDKIT=1 ${shellQuote([engine!.docker, ...directBuildArgv(b, serviceFiles(b.grants, pathsOf(files)), directOpts(b))])}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
    info(`dry run: no secret file was written (a real run writes them under ${dir}) and docker was not started.`);
    return 0;
  }

  const code = await withSecretFiles(root.root, resolution.secrets, async (files, session) => {
    mark('files');
    if (choice.engine === 'compose') {
      return runCompose({ docker, session, secretIds: ids, overrideText: overrideFor(files).text, argvFor: composeFor, childEnv, patterns: masking ? patterns : undefined, report });
    }
    const pathOf = pathsOf(files);
    return runDirect({
      engine: engine!,
      builds,
      files,
      session,
      childEnv,
      parallel: args.parallel ?? 1,
      patterns: masking ? patterns : undefined,
      filesFor: (b) => serviceFiles(b.grants, pathOf),
      argvFor: (b, f) => directBuildArgv(b, f, directOpts(b)),
      report,
    });
  });
  mark('docker');
  return code;
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
