/**
 * The keeper: holds a run directory after secbuild has exited, for a
 * container that reads its secrets from it (`secbuild run -d`,
 * `secbuild compose up -d`), and removes it once what uses it is gone.
 *
 * A tiny `sh` in its own session, like the watchdog (./watchdog.ts), started
 * once `docker run -d` / `compose up -d` has succeeded. It inherits the run
 * directory's liveness socket (./liveness.ts) as fd 3, so other runs' sweeps
 * and `secbuild clean` see the directory as alive while the keeper lives, and
 * as stale (removable) once it is gone, however it died. It waits:
 * - for a container (by its full id, never a name another container may take
 *   later): `docker wait` while it runs, then `docker ps -a --filter id=`
 *   until docker lists it no more — a stopped or restarting container keeps
 *   its files (`docker restart`, a restart policy read them again);
 * - for a compose project: until `docker ps -a` lists none of its containers
 *   that carry this run's label (`com.docker.compose.project` and
 *   `secbuild.run`: RUN_LABEL below), every 2 s — a
 *   later `up` recreates them on its own files, and this directory goes.
 * Only docker's own answer — `docker ps` exits 0 and lists nothing — is
 * "gone": a daemon that does not answer, or a docker that cannot run (a
 * wrapper's "No such file or directory"), is waited for. Then it
 * removes the directory with secbuild's own removal (./remove.ts, as
 * the watchdog runs it) — only the directory it was given: the same device
 * and inode as when it started, a directory and not a symlink. When the
 * directory is gone already (`secbuild compose down` removed it), it exits.
 * Its children do not inherit the socket (`3>&-`).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { minimalEnv, withVars, type ChildEnv } from './env.js';
import { spawnDetached } from './exec.js';
import { REMOVE_PROGRAM } from './remove.js';
import { removeRunDir, RUN_DIR_NAME } from './rundir.js';

/**
 * The label `secbuild compose up` gives each service that mounts its files
 * (src/engines/compose/argv.ts): the run directory's name. A new run's value
 * changes the service's config, so Compose recreates its containers on the
 * new files (it does not see a secret's file change), and a keeper waits
 * only for the containers with its own value.
 */
export const RUN_LABEL = 'secbuild.run';

/** `docker ps` filters for the containers of compose project `project` that mount run `run`'s files (their RUN_LABEL). Pure. */
export function runContainersFilter(project: string, run: string): string[] {
  return ['--filter', `label=com.docker.compose.project=${project}`, '--filter', `label=${RUN_LABEL}=${run}`];
}

// After the named parameters come the `docker ps` filter words of what is waited for (startKeeper: by id, or runContainersFilter).
const SCRIPT = `
dir=$1; id=$2; node=$3; remove=$4; docker=$5; kind=$6; name=$7; shift 7
gone() {
  out=$("$docker" ps -aq --no-trunc "$@" 2>/dev/null 3>&-) || return 1
  [ -z "$out" ]
}
while ! gone "$@"; do
  [ -d "$dir" ] || exit 0
  [ "$kind" = container ] && "$docker" wait "$name" >/dev/null 2>&1 3>&-
  sleep 2
done
[ -d "$dir" ] && [ ! -h "$dir" ] && [ "$(stat -c %d:%i -- "$dir" 2>/dev/null)" = "$id" ] || exit 0
"$node" -e "$remove" "$dir" </dev/null >/dev/null 2>&1 3>&- || rm -rf --one-file-system -- "$dir"
exit 0
`;

/** The variables docker reads to find its daemon and config: the keeper's docker must address the run's daemon. */
const DOCKER_VARS = ['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'HOME'] as const;

/** What the keeper waits for: a container's removal, or that of the last container of a compose project labelled with this run (RUN_LABEL = run). */
export type KeptFor = { container: string } | { project: string; run: string };

/**
 * The keeper's environment: PATH and docker's own variables from the run's
 * (scrubbed) environment, with `daemon` — the endpoint the run used
 * (src/engines/docker/reach.ts) — pinned as DOCKER_HOST: a later `docker
 * context use` must not point the keeper at another daemon, whose "No such
 * object" would read as "the container is gone". Undefined: secbuild could
 * not tell the endpoint, docker resolves it as for the run.
 */
export function keeperEnv(env: ChildEnv, daemon: string | undefined): ChildEnv {
  const vars: Record<string, string | undefined> = Object.fromEntries(DOCKER_VARS.map((k) => [k, env[k]]));
  if (daemon !== undefined) Object.assign(vars, { DOCKER_HOST: daemon, DOCKER_CONTEXT: undefined });
  return withVars(minimalEnv(env), vars);
}

/** Starts the keeper of `dir` (see the header); returns its pid. Throws when it cannot start. */
export function startKeeper(o: { dir: string; alive: number | undefined; docker: string; daemon: string | undefined; env: ChildEnv; for: KeptFor }): number | undefined {
  const st = lstatSync(o.dir);
  const [kind, name, filter] = 'container' in o.for
    ? ['container', o.for.container, ['--filter', `id=${o.for.container}`]]
    : ['project', o.for.project, runContainersFilter(o.for.project, o.for.run)];
  const child = spawnDetached('/bin/sh', ['-c', SCRIPT, 'secbuild-keeper', o.dir, `${st.dev}:${st.ino}`, process.execPath, REMOVE_PROGRAM, o.docker, kind, name, ...filter], {
    env: keeperEnv(o.env, o.daemon),
    keep: o.alive === undefined ? [] : [o.alive],
  });
  if (child.pid === undefined) throw new Error('the keeper could not be started');
  child.stdin?.end();
  return child.pid;
}

/** The file of a kept run directory that names the compose project it is kept for. */
export const KEPT_PROJECT_FILE = 'project';

/** What a kept directory's project file says: read without following a symlink, a small regular file of this user, else undefined. */
function keptProject(dir: string): string | undefined {
  let fd: number | undefined;
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== process.getuid?.()) return undefined;
    fd = openSync(join(dir, KEPT_PROJECT_FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const f = fstatSync(fd);
    if (!f.isFile() || f.uid !== process.getuid?.() || f.size > 1024) return undefined;
    return readFileSync(fd, 'utf8');
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Removes the run directories under `root` kept for compose project
 * `project` (`secbuild compose down`, after `docker compose down`) that no
 * container uses any more: only secbuild's own names, directories of this
 * user whose project file names it, and for which `inUse(name)` (a container
 * with that run's label still exists, or docker could not say) is false — a
 * `down SERVICE` leaves the files another service mounts. Their keepers then
 * find the directory gone and exit. Returns what it removed.
 */
export async function releaseProject(root: string, project: string, inUse: (run: string) => Promise<boolean>): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names.filter((n) => RUN_DIR_NAME.test(n) && keptProject(join(root, n)) === project)) {
    if (await inUse(n)) continue;
    removeRunDir(join(root, n));
    removed.push(n);
  }
  return removed;
}
