/**
 * Which Dockerfile frontend parses a build, and whether it takes
 * `RUN --mount=…,env=NAME`.
 *
 * A `# syntax=IMAGE` line (or the BUILDKIT_SYNTAX build-arg, which wins)
 * makes BuildKit pull that frontend image from its registry and parse the
 * Dockerfile with it; without one, the builder's own (builtin) frontend parses
 * it. Facts this relies on (moby/buildkit git history):
 * - the `env` key of a mount came with commit 96f746bc (moby/buildkit#5215),
 *   first in the tags dockerfile/1.10.0-rc1 and v0.16.0;
 *   frontend/dockerfile/instructions/commands_runmount.go `parseMount` of
 *   every earlier release answers "unexpected key 'env' in 'env=X'";
 * - docker engine 27.3 is the first to vendor BuildKit v0.16 (moby/moby#48469,
 *   the 27.x backport); 26.1 vendors v0.13.2, 20.10 v0.8. Verified here:
 *   the builtin frontends of 20.10.24 and 26.1.5 both refuse the key.
 * Tags: `1` and `1-labs` follow the newest 1.x; `latest`, `labs` and
 * `master*` (dockerfile-upstream) are newer still; `1.N[.P][-suffix]` is 1.N.
 */
import type { Frontend } from './types.js';

/** The frontend release that reads env= on a mount, and the first docker engine whose builtin frontend is that new. */
export const MOUNT_ENV_FRONTEND: readonly [number, number] = [1, 10];
export const MOUNT_ENV_ENGINE: readonly [number, number] = [27, 3];

/** The frontend `ref` names (`where` says where it was named); no ref: the builder's own. */
export function frontendOf(ref: string | undefined, where: string | undefined): Frontend {
  if (!ref) return { version: null };
  return { ref, where, version: isDockerfileFrontend(ref) ? tagVersion(ref) : null };
}

/** docker/dockerfile or docker/dockerfile-upstream, any tag or digest, with or without docker.io/. */
export function isDockerfileFrontend(ref: string): boolean {
  const repo = ref.replace(/^docker\.io\//, '').replace(/@.*$/, '').replace(/:[^/]*$/, '');
  return repo === 'docker/dockerfile' || repo === 'docker/dockerfile-upstream';
}

function tagVersion(ref: string): Frontend['version'] {
  const tag = /:([^/@]+)(@|$)/.exec(ref)?.[1];
  if (tag === undefined) return ref.includes('@') ? null : 'latest'; // a digest alone does not say
  if (/^(latest|labs|master|mainline)(-.*)?$/.test(tag)) return 'latest';
  const m = /^(\d+)(?:\.(\d+))?(?:[.-].*)?$/.exec(tag);
  if (!m) return null;
  if (m[2] === undefined) return Number(m[1]) >= 1 ? 'latest' : [Number(m[1]), 0];
  return [Number(m[1]), Number(m[2])];
}

const atLeast = (v: readonly [number, number], min: readonly [number, number]) => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

/** Whether the syntax line's frontend takes env= on a mount; undefined without one (the builder decides) or when its ref does not tell. */
export function mountEnvBySyntax(f: Frontend): boolean | undefined {
  if (f.version === null) return undefined;
  return f.version === 'latest' || atLeast(f.version, MOUNT_ENV_FRONTEND);
}

/** Whether docker engine `version`'s builtin frontend takes env= on a mount; undefined when the version cannot be read. */
export function mountEnvByEngine(version: string): boolean | undefined {
  const m = /^v?(\d+)\.(\d+)/.exec(version.trim());
  return m ? atLeast([Number(m[1]), Number(m[2])], MOUNT_ENV_ENGINE) : undefined;
}
