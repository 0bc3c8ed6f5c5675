/**
 * `secbuild [build] …`: resolve, preflight, write the secret files, run
 * `docker build --secret id=…,src=…`, and remove the files on every path.
 */
import { constants as osConstants } from 'node:os';
import { buildHelp, parseBuildArgs } from '../args.js';
import { dockerBuildArgv, shellQuote } from '../argv.js';
import { buildEnv, detectEngine, findDocker, type Engine } from '../engine.js';
import { DockerExit } from '../errors.js';
import { info, warn } from '../log.js';
import { planSpecs } from '../plan.js';
import { resolveSpecs, type Resolution } from '../resolve.js';
import { chooseRoot, RUN_PREFIX } from '../rundir.js';
import { withSecretFiles } from '../session.js';
import { mark } from '../timing.js';
import { runPreflight } from './preflight-step.js';

export async function buildCommand(argv: readonly string[]): Promise<number> {
  mark('start');
  const args = parseBuildArgs(argv);
  if (args.help) {
    process.stdout.write(buildHelp());
    return 0;
  }
  const env = process.env;
  const cwd = process.cwd();
  const plan = await planSpecs(args, env, cwd);
  mark('plan');
  const docker = findDocker(args.docker, env);
  const root = chooseRoot({ tmpdir: args.tmpdir, env, requireTmpfs: args.requireTmpfs });

  // Preflight needs only the declared ids; resolution and engine detection run in parallel after it.
  mark('root');
  await runPreflight(args, plan.specs, env, cwd, plan.configPath);
  mark('preflight');
  const [resolution, engine] = await Promise.all([
    resolveSpecs(plan.specs, { env, childEnv: plan.childEnv }),
    detectEngine(docker, env),
  ]);
  mark('resolve');
  for (const s of resolution.skipped) info(`optional secret "${s.id}" (${s.source}) is not provided: ${s.reason}`);
  if (!root.memoryBacked) {
    warn(`secret files go to ${root.root}, which is not memory-backed (tmpfs); they are removed after the build. Use --require-tmpfs to refuse this.`);
  }

  if (args.dryRun) return dryRun(engine, root.root, resolution, args.dockerArgs);
  return runBuild(engine, root.root, resolution, args.dockerArgs, plan.childEnv);
}

function dryRun(engine: Engine, root: string, resolution: Resolution, userArgs: readonly string[]): number {
  const dir = `${root}/${RUN_PREFIX}${process.pid}-XXXXXX`;
  const files = resolution.secrets.map((s, i) => ({ id: s.id, path: `${dir}/${String(i).padStart(2, '0')}-${s.id}` }));
  for (const s of resolution.secrets) info(`secret "${s.id}" from ${s.source}: ${s.bytes} bytes`);
  // buildEnv() always sets DOCKER_BUILDKIT=1, so the printed command does too.
  process.stdout.write(`DOCKER_BUILDKIT=1 ${shellQuote([engine.docker, ...dockerBuildArgv(files, userArgs)])}\n`);
  info(`dry run: no secret file was written (a real run writes them under ${dir}) and docker was not started.`);
  return 0;
}

async function runBuild(engine: Engine, root: string, resolution: Resolution, userArgs: readonly string[], childEnv: NodeJS.ProcessEnv): Promise<number> {
  return withSecretFiles(root, resolution.secrets, async (files, session) => {
    mark('files');
    const child = session.spawn(engine.docker, dockerBuildArgv(files, userArgs), { env: buildEnv(childEnv) });
    mark('spawn');
    const result = await session.wait(child, engine.docker);
    mark('docker');
    if (result.signal) throw new DockerExit(128 + (osConstants.signals[result.signal] ?? 0));
    if (result.code !== 0) throw new DockerExit(result.code ?? 1);
    return 0;
  });
}
