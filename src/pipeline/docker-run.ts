/**
 * `secbuild run [docker run options] IMAGE [CMD…]` as a pipeline job: the
 * same specs, resolution, masking and run directory as a build, handed to
 * `docker run` as read-only bind mounts at /run/secrets/ID
 * (src/engines/docker/run-argv.ts). The container's end is the run's end:
 * - foreground: on a signal secbuild runs `docker stop` of the container
 *   (its PID 1 may ignore the signal docker would forward), after a failed or
 *   interrupted `docker run` it stops what is still running, and when secbuild
 *   is killed the watchdog's reaper (`reap`) stops it before the files go;
 * - `-d`: once docker has started the container, a keeper (src/run/keeper.ts)
 *   holds the run directory until the container is removed.
 * A daemon on another machine is refused (src/engines/docker/local.ts); an
 * --env or --label that carries a secret is refused by the build-arg guard.
 */
import { readFileSync } from 'node:fs';
import { parseContainerConfigFlags } from '../guards/build-args.js';
import { join } from 'node:path';
import type { RunArgs } from '../args/run.js';
import { shellQuote } from '../engines/docker/argv.js';
import { addressDaemon, daemonPrefix } from '../engines/docker/daemon.js';
import { findDocker } from '../engines/docker/detect.js';
import { dockerEngine } from '../engines/docker/engine.js';
import { requireLocalDaemon } from '../engines/docker/local.js';
import { CID_FILE, runArgv, stopArgv, stopScript } from '../engines/docker/run-argv.js';
import type { ChildEnv } from '../run/env.js';
import { capture } from '../run/exec.js';
import { setOwnership } from '../run/file-owner.js';
import { writeExclusive } from '../run/rundir.js';
import { octal, type Ownership } from '../secrets/ownership.js';
import { childEnvFor, planSpecs } from '../secrets/plan.js';
import { DockerExit } from '../util/errors.js';
import { readToCheck } from '../util/read.js';
import type { Job } from './run.js';
import { runtimeJob } from './runtime-job.js';

/**
 * The texts of run's --env-file/--label-file, for the guard, read as
 * src/util/read.ts `readToCheck` reads (regular files, bounded). (Node 20
 * itself opens any `--env-file X` of its argv at start-up, even after the
 * script: a FIFO there blocks before secbuild runs; tested at the unit tier.)
 */
export async function readRecordedFiles(recorded: RunArgs['recorded']): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const { flag, value: path } of recorded) {
    if (!flag.endsWith('-file') || texts.has(path)) continue;
    const text = await readToCheck(`${flag} ${path}`, path);
    if (text !== undefined) texts.set(path, text);
  }
  return texts;
}

/** The container id `docker run` wrote, once it has (64 hex digits), else undefined. */
function readCid(cidfile: string): string | undefined {
  try {
    const id = readFileSync(cidfile, 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Stops the container of `cidfile` if docker created one; resolves when docker stop has ended. */
export async function stopContainer(docker: string, cidfile: string, env: ChildEnv): Promise<void> {
  const cid = readCid(cidfile);
  if (cid) await capture(docker, stopArgv([cid]), { env, timeoutMs: 30_000 });
}

export async function runJob(args: RunArgs): Promise<Job> {
  const env = process.env;
  const plan = await planSpecs(args, env, process.cwd());
  // Before anything resolves: a remote daemon cannot see the run directory.
  requireLocalDaemon(env, args, 'secbuild run');
  const engine = dockerEngine(findDocker(args.docker, env));
  const recordedFiles = await readRecordedFiles(args.recorded);
  const childEnv = addressDaemon('docker', childEnvFor(env, plan.specs), args);
  // --secret's uid=/gid=/mode= (a non-root container user); unset fields: the invoking user's, 0600, as every secret file.
  const ownerOf = (id: string): Ownership => {
    const o = plan.specs.find((s) => s.id === id)?.owner ?? {};
    return { uid: o.uid ?? process.getuid?.() ?? 0, gid: o.gid ?? process.getgid?.() ?? 0, mode: o.mode ?? 0o600 };
  };
  const argvFor = (files: Parameters<typeof runArgv>[0]['files'], dir: string) =>
    runArgv({ files, cidfile: join(dir, CID_FILE), dockerArgs: args.dockerArgs, image: args.image, command: args.command });
  return {
    ...runtimeJob({ options: args, childEnv, specs: plan.specs, engine }),
    // --env/--env-file/--label/--label-file land in the container's config (docker inspect): the build-arg guard refuses a secret there.
    buildArgs: () => [{ args: parseContainerConfigFlags(args.recorded, env, (path) => recordedFiles.get(path)) }],
    dryRun: (files, dir) => [
      ...files.map((f) => {
        const o = ownerOf(f.id);
        return `  secret ${f.id}: ${f.path}, uid ${o.uid}, gid ${o.gid}, mode ${octal(o.mode)}`;
      }),
      `${daemonPrefix(args)}${shellQuote([engine.bin, ...argvFor(files, dir)])}`,
      ...(args.detach ? [`then: a keeper holds ${dir} until the container is removed (docker rm, or --rm when it exits)`] : []),
    ],
    async run(ctx) {
      const cidfile = join(ctx.dir, CID_FILE);
      for (const f of ctx.files) if (plan.specs.find((s) => s.id === f.id)?.owner) setOwnership(f.path, f.id, ownerOf(f.id));
      // For the watchdog, if secbuild is killed: stop the container before its files are removed.
      writeExclusive(join(ctx.dir, 'reap'), Buffer.from(stopScript({ docker: engine.bin, env: ctx.env, cidfile })));
      const stop = () => stopContainer(engine.bin, cidfile, ctx.env);
      let code: number;
      try {
        code = await ctx.docker(argvFor(ctx.files, ctx.dir), undefined, {
          // docker stop, not the signal: the container's PID 1 may ignore SIGINT/SIGTERM. Before the
          // container exists, the signal goes to docker run (and what it created is stopped below).
          onInterrupt: () => {
            if (!readCid(cidfile)) return false;
            void stop();
            return true;
          },
        });
      } catch (err) {
        await stop();
        throw err;
      }
      // 125-127: docker's own failure; above 128: docker run was killed. Its container must not run on without its files.
      if (code >= 125) await stop();
      if (code !== 0) throw new DockerExit(code);
      const cid = args.detach ? readCid(cidfile) : undefined;
      if (cid) {
        try {
          await ctx.keep({ container: cid });
        } catch (err) {
          // No keeper, so the files go with this run: the container must not run on without them.
          await stop();
          throw err;
        }
      }
      return undefined;
    },
  };
}
