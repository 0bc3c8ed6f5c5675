/**
 * What an interrupted `podman build` leaves behind, and its removal.
 *
 * Podman 4.3 (buildah 1.28) does not clean up a build it is stopped in:
 * after SIGINT, SIGTERM or SIGKILL of `podman build` the RUN step's runc
 * container may go on running (reparented to init), and the build's working
 * container stays in storage — with buildah's copy of every mounted secret in
 * `<graph root>/overlay-containers/<id>/userdata/secrets/<secret id>`, on the
 * graph root's disk (buildah run_common.go `getSecretMount`: file secrets
 * are copied into `store.ContainerDirectory()`). Measured on this machine:
 * README "Podman".
 *
 * The RUN step's OCI bundle is created in `$TMPDIR/buildah<N>` and its runc
 * container is named `buildah-buildah<N>` (buildah run_linux.go). secbuild
 * gives each podman child its own TMPDIR inside the run directory, so the
 * bundles there are this build's and no one else's; each bundle's
 * `run/.containerenv` names the working container (`id="<64 hex>"`). The reaper stops and deletes
 * those runc containers and removes those working containers (which removes
 * the secret copies). It is a shell script written into the run directory,
 * run by secbuild after a podman child ends and by the watchdog
 * (src/run/watchdog.ts) when secbuild itself was killed.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildEnv } from '../../run/env.js';
import { capture } from '../../run/exec.js';
import { shellQuote } from '../docker/argv.js';

/** The file name the watchdog looks for in a run directory. */
export const REAP_FILE = 'reap';

/** Variables podman and the OCI runtime read to find the user's storage and state (rootless: XDG_RUNTIME_DIR). */
const KEPT = ['HOME', 'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'TMPDIR'] as const;

/** The reaper: `sh reap TMPDIR...` (pure; values come from the scrubbed child environment). */
export function reapScript(o: { podman: string; runtime: string; env: ChildEnv }): string {
  const exports = KEPT.filter((k) => o.env[k] !== undefined && k !== 'TMPDIR').map((k) => `export ${k}=${shellQuote([o.env[k]!])}`);
  return [
    '# secbuild: stops and removes what an interrupted podman build left (src/engines/podman/reap.ts).',
    ...exports,
    `pm=${shellQuote([o.podman])}; rt=${shellQuote([o.runtime || 'runc'])}`,
    'for t in "$@"; do',
    '  for b in "$t"/buildah*; do',
    '    [ -d "$b" ] || continue',
    '    "$rt" delete --force "buildah-${b##*/}" >/dev/null 2>&1',
    '    for c in $(sed -n \'s/^id="\\([0-9a-f]\\{64\\}\\)"$/\\1/p\' "$b/run/.containerenv" 2>/dev/null); do',
    '      "$pm" rm --force "$c" >/dev/null 2>&1',
    '    done',
    '    rm -rf -- "$b"',
    '  done',
    'done',
    'exit 0',
    '',
  ].join('\n');
}

/** Whether a podman child's TMPDIR holds a bundle (a RUN step was started and not cleaned up). */
export function leftBundles(tmp: string): boolean {
  try {
    return readdirSync(tmp).some((n) => n.startsWith('buildah'));
  } catch {
    return false;
  }
}

/** Runs the reaper for one child's TMPDIR, if it left a bundle. */
export async function reap(runDir: string, tmp: string, env: ChildEnv): Promise<void> {
  if (!leftBundles(tmp)) return;
  await capture('/bin/sh', [join(runDir, REAP_FILE), tmp], { env, timeoutMs: 60_000 });
}
