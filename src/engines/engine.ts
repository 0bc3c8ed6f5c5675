/**
 * The engine seam: what the pipeline (src/pipeline/run.ts) needs from the
 * program that builds — docker (./docker/engine.ts) or podman
 * (./podman/engine.ts). Both take the same `build --secret id=…,src=… <the
 * user's arguments>` argv (./docker/argv.ts), the same secret files and the
 * same exec seam; they differ in the child's environment, detection, how
 * progress is made plain, what is left to clean after a build and how an
 * image is saved for verify.
 *
 * A later feature (a generated Dockerfile, an ssh agent, `secbuild exec`)
 * plugs in by taking an `Engine` and calling these; nothing here is
 * build-specific.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildEnv } from '../run/env.js';
import type { SecretFile } from '../run/rundir.js';

export type EngineName = 'docker' | 'podman';
export const ENGINE_NAMES: readonly EngineName[] = ['docker', 'podman'];

/** What detection learned, for the report (`report.engine`). */
export interface EngineFacts {
  /** The binary (real path). The field keeps docker's name so docker's report is unchanged. */
  docker: string;
  kind?: 'podman';
  clientVersion?: string;
  buildkit?: string;
  rootless?: boolean;
  graphRoot?: string;
}

export interface Engine {
  readonly name: EngineName;
  /** The binary every run uses (real path). */
  readonly bin: string;
  /** `build --secret … [--ssh ID=SOCKET …] <user's args verbatim and in order>` (docker: ./docker/argv.ts; podman: ./podman/argv.ts). */
  buildArgv(files: readonly SecretFile[], userArgs: readonly string[], ssh?: readonly string[]): string[];
  /** Probes the binary (cached per binary); throws a UsageError when it cannot build with secrets. */
  detect(env: ChildEnv): Promise<EngineFacts>;
  /**
   * Throws a UsageError when the engine's daemon does not answer (docker:
   * ./docker/daemon.ts, one socket connect). Run before any secret resolves;
   * `dockerArgs` may name a buildx builder that is not the daemon.
   */
  requireDaemon?(env: ChildEnv, dockerArgs?: readonly string[]): Promise<void>;
  /**
   * Sets up the next build child of run directory `runDir`: its environment
   * (docker: DOCKER_BUILDKIT=1; podman: its own TMPDIR inside the run
   * directory), and what to do once it has ended, however it ended (podman:
   * remove what an interrupted build left).
   */
  startBuild(env: ChildEnv, runDir: string): { env: ChildEnv; after?: () => Promise<void> };
  /** What --dry-run prints before the n-th build command (from 1): the variables startBuild sets. */
  dryRunPrefix(runDir: string, n?: number): string;
  /** Whether `build --progress=plain` exists (docker); podman always prints plain lines. */
  readonly plainProgressFlag: boolean;
  /**
   * After detect, for a run that mounts secrets: what the user should know
   * about where the engine keeps its own copies (podman: a graph root on
   * disk). Throws a UsageError instead when `requireTmpfs` is set.
   */
  caveats?(requireTmpfs: boolean): string[];
  /** argv (after the binary) that writes IMAGE as an archive to stdout, for verify. */
  saveArgv(image: string): string[];
  /**
   * The daemon's Unix socket verify reads the archive from instead, with the
   * request saveArgv's command would send (docker: src/verify/api-save.ts);
   * undefined: saveArgv.
   */
  archiveSocket?(env: ChildEnv): string | undefined;
}

/**
 * The Dockerfile a build of context directory `dir` reads without -f: docker
 * reads Dockerfile; podman (buildah) its Containerfile when there is one,
 * else Dockerfile. The preflight and `secbuild check` both ask here.
 */
export function defaultDockerfile(dir: string, engine: EngineName): string {
  if (engine === 'podman' && existsSync(join(dir, 'Containerfile'))) return join(dir, 'Containerfile');
  return join(dir, 'Dockerfile');
}
