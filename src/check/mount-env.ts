/**
 * `RUN --mount=…,env=NAME` against the frontend that will parse it: the
 * syntax line's (src/dockerfile/frontend.ts), else the builder's own. Where
 * the frontend would refuse the key, one line per mount says so before docker
 * runs, with both fixes: a `# syntax=docker/dockerfile:1.10` line, or the
 * form every frontend takes, `NAME="$(cat /run/secrets/ID)"`. The build's
 * preflight (src/pipeline/preflight.ts) and `secbuild check` both throw these
 * lines as one UsageError (exit 2).
 *
 * The builder's own frontend: docker's is the daemon's (its engine version,
 * from `docker version`); when the daemon does not answer, or the build names
 * a buildx builder (`--builder`, BUILDX_BUILDER) whose BuildKit secbuild cannot
 * see, its version is unknown and secbuild assumes it is older than 1.10 —
 * the syntax line is the one fix that holds everywhere. Podman builds with
 * buildah, which reads no syntax line and refuses the key (podman 4.3:
 * "secret should have syntax id=id[,target=path,...]"; containers/podman#24906).
 */
import type { DockerfileModel, EnvMount, Frontend } from '../dockerfile/types.js';
import { mountEnvByEngine, mountEnvBySyntax } from '../dockerfile/frontend.js';

/** The builder that parses a Dockerfile without a syntax line: docker's daemon (its version, or why it is unknown), or podman. */
export type Builder = { engine: 'docker'; version: string } | { engine: 'docker'; unknown: string } | { engine: 'podman' };

type Read = Pick<DockerfileModel, 'frontend' | 'envMounts'>;

/** Whether the daemon's version decides (an env= mount and no syntax line): only then is it asked. */
export function needsDaemon(m: Read): boolean {
  return m.envMounts.length > 0 && !m.frontend.ref;
}

/** One line per env= mount the frontend would refuse (`path:line: what. Fix.`); none when it takes them. */
export function mountEnvErrors(m: Read, path: string, builder: Builder): string[] {
  if (m.envMounts.length === 0) return [];
  const refused = refusal(m.frontend, builder);
  if (!refused) return [];
  return m.envMounts.map((e) => `${path}:${e.line}: RUN --mount … env=${e.env} needs the Dockerfile frontend 1.10 or later; ${refused.reason}. ${fixFor(e, refused.syntax)}`);
}

function refusal(f: Frontend, b: Builder): { reason: string; syntax: 'add' | 'change' | null } | undefined {
  if (b.engine === 'podman') return { reason: 'podman builds with buildah, which refuses the env key and reads no "# syntax=" line', syntax: null };
  if (f.ref) {
    // Another frontend, or a digest without a tag: secbuild cannot tell, and leaves it to the build.
    if (mountEnvBySyntax(f) !== false) return undefined;
    return { reason: `the syntax line (${f.where}) asks for ${f.ref}, which refuses the env key`, syntax: 'change' };
  }
  const verdict = 'version' in b ? mountEnvByEngine(b.version) : undefined;
  if (verdict) return undefined;
  if (verdict === false && 'version' in b) {
    return { reason: `without a "# syntax=" line docker engine ${b.version}'s own frontend parses it, and engines before 27.3 refuse the env key ("unexpected key 'env'")`, syntax: 'add' };
  }
  const why = 'version' in b ? `docker engine "${b.version}"` : b.unknown;
  return { reason: `without a "# syntax=" line the builder's own frontend parses it, and secbuild cannot tell its version (${why})`, syntax: 'add' };
}

function fixFor(e: EnvMount, syntax: 'add' | 'change' | null): string {
  const read = e.file ? `drop env=${e.env} and read the file: ${e.env}="$(cat ${e.file})"` : `drop env=${e.env}`;
  if (syntax === 'add') return `Add "# syntax=docker/dockerfile:1.10" as the first line (docker pulls that frontend from Docker Hub), or ${read}.`;
  if (syntax === 'change') return `Change it to docker/dockerfile:1.10 or later, or ${read}.`;
  return `${read[0]!.toUpperCase()}${read.slice(1)}.`;
}
