/**
 * podman as an `Engine` (../engine.ts): the same `build --secret id=…,src=…`
 * argv as docker (podman 4.3 accepts it; RECIPES §3), with
 *
 * - `type=file` on every --secret, and no CSV quoting (./argv.ts);
 * - TMPDIR of each podman child set to its own 0700 directory inside the run
 *   directory (tmpfs): buildah writes each RUN step's OCI bundle there (its
 *   config.json carries the step's environment, build-args included), and
 *   podman its temporary copies (a `-` context, image blobs);
 * - a reaper (./reap.ts) for what an interrupted build leaves;
 * - `podman save --format docker-archive` for verify (podman's default,
 *   named so that a containers.conf cannot change it; src/verify/layout.ts
 *   reads both layouts).
 *
 * Example: `secbuild --engine podman -t app .` runs
 * `TMPDIR=/dev/shm/secbuild-…/tmp-1 podman build --secret id=tok,src=/dev/shm/secbuild-…/00-tok,type=file -t app .`
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withVars, type ChildEnv } from '../../run/env.js';
import { MAX_SOCKET_PATH, socketPathFits } from '../../run/rundir.js';
import type { Engine, EngineFacts } from '../engine.js';
import { UsageError } from '../../util/errors.js';
import { podmanBuildArgv } from './argv.js';
import { detectPodman, graphRootInMemory, type PodmanFacts } from './detect.js';

export { findPodman } from './detect.js';
import { reap, reapScript, REAP_FILE } from './reap.js';

/** What buildah adds to its TMPDIR for the ssh proxy socket it binds: `/.buildah-ssh-sock<up to 10 digits>/ssh_auth_sock`. */
const BUILDAH_SSH_SOCKET = '/.buildah-ssh-sock0123456789/ssh_auth_sock';

/**
 * With --ssh, buildah binds its own socket under the child's TMPDIR (inside
 * the run directory, next to secbuild's agent sockets): a run directory too
 * deep for that fails inside podman with "bind: invalid argument". Said
 * before podman starts, with the fix.
 */
export function checkBuildahSshPath(ssh: readonly string[]): void {
  for (const flag of ssh) {
    const socket = flag.slice(flag.indexOf('=') + 1);
    const longest = `${join(dirname(socket), 'tmp-99')}${BUILDAH_SSH_SOCKET}`;
    if (!socketPathFits(longest)) {
      throw new UsageError(`podman (buildah) would bind its ssh socket under ${dirname(socket)}, which is too deep for a unix socket path (${MAX_SOCKET_PATH} bytes); choose a shorter secret root with --tmpdir.`);
    }
  }
}

export function podmanEngine(bin: string): Engine {
  let facts: PodmanFacts | undefined;
  let children = 0;
  return {
    name: 'podman',
    bin,
    buildArgv(files, userArgs, ssh = []) {
      checkBuildahSshPath(ssh);
      return podmanBuildArgv(files, userArgs, ssh);
    },
    async detect(env: ChildEnv): Promise<EngineFacts> {
      facts = await detectPodman(bin, env);
      return { docker: bin, kind: 'podman', clientVersion: facts.version, rootless: facts.rootless, graphRoot: facts.graphRoot };
    },
    startBuild(env, runDir) {
      if (children === 0) {
        writeFileSync(join(runDir, REAP_FILE), reapScript({ podman: bin, runtime: facts?.runtime ?? '', env }), { mode: 0o600, flag: 'wx' });
      }
      const tmp = join(runDir, `tmp-${++children}`);
      mkdirSync(tmp, { mode: 0o700 });
      return { env: withVars(env, { TMPDIR: tmp }), after: () => reap(runDir, tmp, env) };
    },
    caveats(requireTmpfs) {
      if (!facts || graphRootInMemory(facts)) return [];
      const where = `buildah (podman ${facts.version}) copies each mounted secret into its working container under ${facts.graphRoot}/…/userdata/secrets/, which is not memory-backed, while the build stage runs`;
      if (requireTmpfs) throw new UsageError(`--require-tmpfs: ${where}. Put podman's graph root on a tmpfs (graphroot in storage.conf, or CONTAINERS_STORAGE_CONF naming one that does), or drop --require-tmpfs.`);
      return [`${where}; podman removes the copy with the container, and secbuild removes the container when a build is interrupted. A graph root on a tmpfs keeps even that copy off disk.`];
    },
    dryRunPrefix: (runDir, n = 1) => `TMPDIR=${join(runDir, `tmp-${n}`)} `,
    plainProgressFlag: false,
    saveArgv: (image) => ['save', '--format', 'docker-archive', image],
  };
}
