/**
 * The e2e tier's podman: Debian's podman (SECBUILD_E2E_PODMAN, default
 * /usr/bin/podman), rootful, with the busybox base image in its storage
 * (.ci/provision.sh copies it from docker's: `podman pull
 * docker-daemon:secbuild-test/busybox:local`). `podmanProblem()` says what is
 * missing (with CI=true the podman tests then fail, see ./ci.ts).
 * Runs use `--network none` (no netavark/CNI iptables chains) and
 * `podman run` the ulimits this machine allows (RECIPES §3).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BASE, envFor, sh, type Sandbox } from './cli.js';
import { DOCKER } from './e2e.js';

export const PODMAN = process.env.SECBUILD_E2E_PODMAN ?? '/usr/bin/podman';

/** What the podman tests need and this machine lacks, or undefined (it runs podman: call it only where the tier runs). */
export function podmanProblem(): string | undefined {
  if (!existsSync(PODMAN)) return `${PODMAN} does not exist (apt-get install podman; .ci/provision.sh does)`;
  try {
    execFileSync(PODMAN, ['image', 'exists', BASE], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    return `the base image ${BASE} is not in podman's storage (podman pull docker-daemon:${BASE}; .ci/provision.sh does)`;
  }
  return undefined;
}

/** A CLI run with podman: SECBUILD_ENGINE=podman and the e2e podman binary. */
export function podmanEnv(box: Pick<Sandbox, 'tmp' | 'cache'>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return envFor(box, DOCKER, { SECBUILD_ENGINE: 'podman', SECBUILD_PODMAN: PODMAN, ...extra });
}

export function podman(args: string[], input?: string) {
  return sh(PODMAN, args, { input });
}

const hardNofile = execFileSync('/bin/sh', ['-c', 'ulimit -Hn']).toString().trim();

/** `podman run --rm` with no network and ulimits runc may set here (podman's default nofile 1048576 is above this machine's hard limit). */
export function podmanRun(image: string, cmd: string[]) {
  const nofile = /^\d+$/.test(hardNofile) ? hardNofile : '4096';
  return podman(['run', '--rm', '--network', 'none', '--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', 'nproc=4096:4096', image, ...cmd]);
}

/** The build containers (buildah's, "external") in podman's storage. */
export async function buildContainers(): Promise<string[]> {
  const r = await podman(['ps', '--all', '--external', '--quiet', '--no-trunc']);
  return r.stdout.toString().split('\n').filter(Boolean);
}
