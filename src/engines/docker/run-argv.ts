/**
 * `docker run` with secbuild's secrets, as pure functions: each secret file
 * bind-mounted read-only at /run/secrets/ID (where Compose and Swarm put
 * them), the container id written to a file of the run directory so that
 * every exit path can stop the container, and the stop itself — run by
 * secbuild, and by the watchdog's `reap` script when secbuild is killed.
 */
import { UsageError } from '../../util/errors.js';
import type { ChildEnv } from '../../run/env.js';
import type { SecretFile } from '../../run/rundir.js';
import { runContainersFilter } from '../../run/keeper.js';
import { shellQuote } from './argv.js';

/** Where a container finds its secrets (Compose's and Swarm's place too). */
export const SECRETS_TARGET = '/run/secrets';

/** The run-directory file `docker run --cidfile` writes the container id to. */
export const CID_FILE = 'cid';

/** How long `docker stop` gives the container before SIGKILL (the watchdog gives its reaper 10 s). */
export const STOP_SECONDS = 5;

/** `--mount type=bind,…,readonly` of one file; a path docker's CSV cannot carry plainly is refused. */
export function fileMount(path: string, target: string): string[] {
  for (const p of [path, target]) {
    if (/[,"\n]/.test(p)) throw new UsageError(`${p} holds a comma, quote or newline, which docker's --mount cannot take; choose a secret root without one (--tmpdir).`);
  }
  return ['--mount', `type=bind,src=${path},dst=${target},readonly`];
}

export function runArgv(o: { files: readonly SecretFile[]; cidfile: string; dockerArgs: readonly string[]; image: string; command: readonly string[] }): string[] {
  return ['run', '--cidfile', o.cidfile, ...o.files.flatMap((f) => fileMount(f.path, `${SECRETS_TARGET}/${f.id}`)), ...o.dockerArgs, o.image, ...o.command];
}

/** Stops containers by id; --rm containers are then removed by docker. */
export function stopArgv(ids: readonly string[]): string[] {
  return ['stop', '--time', String(STOP_SECONDS), ...ids];
}

/** docker's own variables, as `export` lines of a script (the watchdog runs it with PATH only). */
function dockerExports(env: ChildEnv): string[] {
  return ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'HOME'].filter((k) => env[k] !== undefined).map((k) => `export ${k}=${shellQuote([env[k]!])}`);
}

/**
 * The watchdog's reaper (run when secbuild is killed, before the directory is
 * removed): stops the container whose id `docker run` wrote to `cidfile`, or
 * every running container of compose project `project` that mounts this run's
 * files (labelled with run directory name `run`; a service started otherwise
 * is not ours to stop). Pure.
 */
export function stopScript(o: { docker: string; env: ChildEnv } & ({ cidfile: string } | { project: string; run: string })): string {
  const d = shellQuote([o.docker]);
  const stop = shellQuote(stopArgv([]));
  return [
    '# secbuild: stops the containers of a killed run before their secret files go (src/engines/docker/run-argv.ts).',
    ...dockerExports(o.env),
    'cidfile' in o
      ? `c=$(cat ${shellQuote([o.cidfile])} 2>/dev/null) && [ -n "$c" ] && ${d} ${stop} "$c" >/dev/null 2>&1`
      : `c=$(${d} ps -q ${shellQuote(runContainersFilter(o.project, o.run))} 2>/dev/null) && [ -n "$c" ] && ${d} ${stop} $c >/dev/null 2>&1`,
    'exit 0',
    '',
  ].join('\n');
}
