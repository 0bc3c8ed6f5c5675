/**
 * The build step of rotation-aware caching (src/secrets/cache-policy.ts):
 * for the secrets whose policy is not stable, the cache input of each
 * (src/secrets/cache-key.ts), the derived Dockerfile that declares it before
 * each RUN that mounts it (src/dockerfile/derive.ts), and docker's `-f` and
 * `--build-arg` words. Engine-neutral: the words are docker build's, and a
 * compose override or another engine takes the same file and values.
 *
 * Imported with import() only when some secret has a policy: a build without
 * one never evaluates it or reads a key. It stays in the entry bundle (not a
 * COLD part): loading a separate file cost ~3 ms of the 5 ms budget a fully
 * cached build with a content secret has (test/bench/bench.mjs).
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ChildEnv } from '../run/env.js';
import { cacheInput, cacheKey } from '../secrets/cache-key.js';
import { cacheArgName, formatPolicy, isKeyed, type CachePolicy } from '../secrets/cache-policy.js';
import type { Secret } from '../secrets/secret.js';
import { deriveDockerfile, mapDockerLine, type DerivedDockerfile, type MountAt } from '../dockerfile/derive.js';
import { isTooLarge, MAX_DOCKERFILE_BYTES, readBounded } from '../util/read.js';
import { UsageError } from '../util/errors.js';
import { warn } from '../util/log.js';
import type { LineRewrite } from './line-rewrite.js';

/** The Dockerfile a build reads, as the preflight read it. */
export interface ReadDockerfile {
  path: string;
  text: string;
  mounts: readonly MountAt[];
}

export interface CacheArgs {
  /** The derived file's base name: the user's, so docker's messages name the same file. */
  name: string;
  derived: DerivedDockerfile;
  /** The user's `<Dockerfile>.dockerignore`, copied next to the derived file (BuildKit reads it before the context's .dockerignore). */
  ignore?: Buffer;
  /** Build-arg name → cache input (a keyed MAC, or `scope:NAME`): not secret, visible in `docker history`. */
  values: Array<[string, string]>;
  userPath: string;
}

export interface CacheRequest {
  /** The secrets handed to docker. */
  secrets: readonly Secret[];
  policyOf(id: string): CachePolicy | undefined;
  dockerfile?: ReadDockerfile;
  /** Why there is no Dockerfile to derive from (stdin, a remote context). */
  skip?: string;
  env: NodeJS.ProcessEnv;
  childEnv: ChildEnv;
  /** --dry-run: no key is read or created, and the values are placeholders. */
  dryRun: boolean;
  /** Prefixes the warnings (compose: `service "api": `). */
  label?: string;
}

/** undefined when every secret is stable (the build runs as it always did). */
export async function cacheArgs(req: CacheRequest): Promise<CacheArgs | undefined> {
  const keyed = req.secrets.filter((s) => isKeyed(req.policyOf(s.id)));
  if (keyed.length === 0) return undefined;
  if (!req.dockerfile) {
    const ids = keyed.map((s) => `"${s.id}" (cache=${formatPolicy(req.policyOf(s.id))})`).join(', ');
    throw new UsageError(`secret ${ids} needs a Dockerfile secbuild can read, but ${req.skip ?? 'there is none'}; give -f PATH with a local context, or drop cache=.`);
  }
  const { path, text, mounts } = req.dockerfile;
  const names = new Map(keyed.map((s) => [s.id, cacheArgName(s.id)]));
  const mounted = new Set(mounts.map((m) => m.id));
  for (const s of keyed) {
    if (!mounted.has(s.id)) warn(`${req.label ?? ''}secret "${s.id}" has cache=${formatPolicy(req.policyOf(s.id))}, but no RUN of the build mounts it; the policy changes nothing.`);
  }
  const derived = deriveDockerfile(text, mounts, (id) => names.get(id));
  if (!derived) return undefined;
  const needsKey = keyed.some((s) => req.policyOf(s.id)!.content);
  const key = needsKey && !req.dryRun ? await cacheKey(req.env, req.childEnv) : undefined;
  const values = keyed
    .filter((s) => mounted.has(s.id))
    .map((s): [string, string] => {
      const policy = req.policyOf(s.id)!;
      const value = req.dryRun && policy.content ? `<HMAC-SHA-256 of ${s.id} (cache=${formatPolicy(policy)})>` : cacheInput(policy, s.id, s.value, key);
      return [names.get(s.id)!, value];
    });
  return { name: basename(path), derived, ignore: await readIgnore(`${path}.dockerignore`), values, userPath: path };
}

async function readIgnore(path: string): Promise<Buffer | undefined> {
  // Most Dockerfiles have none: a stat answers that without an error object.
  if (!existsSync(path)) return undefined;
  try {
    return await readBounded(path, MAX_DOCKERFILE_BYTES);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (isTooLarge(err)) throw new UsageError(`${path} is too large for an ignore file; check it.`, { cause: err });
    throw new UsageError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code}); BuildKit reads it as the Dockerfile's ignore file, so fix its permissions.`, { cause: err });
  }
}

/** The derived file and its ignore file, as written into the run directory's subdirectory. */
export function derivedFiles(c: CacheArgs): Array<{ name: string; value: Buffer }> {
  const files: Array<{ name: string; value: Buffer }> = [{ name: c.name, value: Buffer.from(c.derived.text, 'utf8') }];
  if (c.ignore) files.push({ name: `${c.name}.dockerignore`, value: c.ignore });
  return files;
}

/** docker build's words: the derived file and one --build-arg per policy. */
export function cacheArgv(c: CacheArgs, dir: string): string[] {
  return ['-f', join(dir, c.name), ...c.values.flatMap(([n, v]) => ['--build-arg', `${n}=${v}`])];
}

/** Rewrites docker's stderr lines to name the user's Dockerfile and lines. */
export function lineRewrite(c: CacheArgs): LineRewrite {
  const state = { excerpt: false };
  return (line) => mapDockerLine(line, c.derived, c.name, c.userPath, state);
}
