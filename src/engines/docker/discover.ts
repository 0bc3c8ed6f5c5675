/**
 * When the chosen docker cannot build with BuildKit, which other docker CLI
 * on this machine can: the rest of PATH in `which -a docker` order, then the
 * usual install paths. Each candidate is probed through the caller's probe
 * (src/engines/docker/detect.ts: cached per binary like engine detection, run
 * through the exec seam with a ChildEnv), first working one wins.
 *
 * Example: PATH has /usr/local/bin/docker (28.2.2, no buildx) before
 * /usr/bin/docker (Debian's 20.10) → "/usr/bin/docker (20.10) can: rerun
 * with SECBUILD_DOCKER=/usr/bin/docker".
 */
import { realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where docker CLIs are installed besides PATH: Debian/Docker's packages, a static install, snap. */
export const USUAL_PATHS = ['/usr/bin/docker', '/usr/local/bin/docker', '/snap/bin/docker'] as const;

function executable(path: string): string | undefined {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0 ? realpathSync(path) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Docker CLIs other than `chosen` (a real path), as [path as found, real path],
 * in PATH order then USUAL_PATHS, one per real file. `real` is injectable for tests.
 */
export function otherDockers(chosen: string, pathVar: string, real: (p: string) => string | undefined = executable): Array<[string, string]> {
  const seen = new Set([chosen]);
  const out: Array<[string, string]> = [];
  for (const p of [...pathVar.split(delimiter).filter(Boolean).map((d) => join(d, 'docker')), ...USUAL_PATHS]) {
    const r = real(p);
    if (r === undefined || seen.has(r)) continue;
    seen.add(r);
    out.push([p, r]);
  }
  return out;
}

/** What a probe learned about one candidate. */
export interface Probed {
  clientVersion: string;
}

/** "20.10.24+dfsg1" → "20.10". */
export const shortVersion = (v: string): string => /^\d+\.\d+/.exec(v)?.[0] ?? (v || 'unknown version');

/** The first other docker CLI the probe accepts (it throws or returns undefined for one that cannot build). */
export async function findWorkingDocker(
  chosen: string,
  pathVar: string,
  probe: (docker: string) => Promise<Probed | undefined>,
  realPath: (p: string) => string | undefined = executable,
): Promise<{ path: string; clientVersion: string } | undefined> {
  for (const [path, real] of otherDockers(chosen, pathVar, realPath)) {
    const found = await probe(real).catch(() => undefined);
    if (found) return { path, clientVersion: found.clientVersion };
  }
  return undefined;
}

/** The advice that follows "cannot build with BuildKit": the CLI that can, and the two facts a Debian user needs. */
export function noBuildKitAdvice(other: { path: string; clientVersion: string } | undefined): string {
  const use = other
    ? `${other.path} (${shortVersion(other.clientVersion)}) can: rerun with SECBUILD_DOCKER=${other.path} (or --docker ${other.path}).`
    : 'No other docker CLI here can (searched PATH, /usr/bin/docker, /usr/local/bin/docker, /snap/bin/docker).';
  return `${use} A docker CLI older than 23 builds with BuildKit when DOCKER_BUILDKIT=1 (secbuild sets it), e.g. Debian's docker.io (apt-get install docker.io); a newer CLI needs the buildx plugin, and Debian 12 has no docker-buildx package: take docker-buildx-plugin from Docker's apt repository or put a buildx release binary in ~/.docker/cli-plugins/docker-buildx.`;
}
