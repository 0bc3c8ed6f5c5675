/**
 * A small on-disk cache for what does not change between runs (engine
 * detection per docker or podman binary, preflight results per Dockerfile),
 * in $XDG_CACHE_HOME/secbuild (default ~/.cache/secbuild). Read and written
 * only through the trusted-state reader (./trusted.ts): a file there that is
 * not the user's own, is writable by others, lies under a symlink, is not a
 * regular file or is too large is a miss. It never holds a secret value. A
 * cache that cannot be read or written only costs time.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readState, stateRoot, writeState } from './trusted.js';

/** A JSON cache file larger than this is not read (the largest, a preflight entry, holds one Dockerfile's text). */
export const MAX_JSON_BYTES = 4 << 20;

export function cacheDir(env: NodeJS.ProcessEnv): string {
  return stateRoot(env, 'XDG_CACHE_HOME', '.cache');
}

export function readCache<T>(env: NodeJS.ProcessEnv, name: string): T | undefined {
  if (env.SECBUILD_NO_CACHE === '1') return undefined;
  let root: string;
  try {
    root = cacheDir(env);
  } catch {
    return undefined; // no home: no cache
  }
  const read = readState(root, name, { maxBytes: MAX_JSON_BYTES });
  if (!read.ok) return undefined;
  try {
    return JSON.parse(read.data.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeCache(env: NodeJS.ProcessEnv, name: string, value: unknown): void {
  if (env.SECBUILD_NO_CACHE === '1') return;
  try {
    writeState(cacheDir(env), name, Buffer.from(JSON.stringify(value)));
  } catch {
    // no home: no cache
  }
}

/**
 * What changes a probe's answer besides the binary: the given variables and
 * files (each file's inode, size, mtime and ctime, or its absence; a
 * directory ending in `.d/` stands for its `*.conf` files). One line, for a
 * cache key; computing it costs a stat per file.
 */
export function inputsKey(vars: Readonly<Record<string, string | undefined>>, files: readonly string[]): string {
  const parts = Object.entries(vars).map(([k, v]) => `${k}=${v ?? ''}`);
  for (const f of files) {
    if (f.endsWith('.d/')) {
      let names: string[] = [];
      try {
        names = readdirSync(f).filter((n) => n.endsWith('.conf')).sort();
      } catch {
        // absent
      }
      parts.push(`${f}[${names.map((n) => `${n}:${statKey(join(f, n))}`).join(',')}]`);
    } else parts.push(`${f}:${statKey(f)}`);
  }
  return parts.join('\0');
}

function statKey(path: string): string {
  try {
    const st = statSync(path);
    return `${st.ino}.${st.size}.${st.mtimeMs}.${st.ctimeMs}`;
  } catch {
    return '-';
  }
}

/**
 * What `probe` learns about a binary, cached in `name` under the binary's real
 * path, size and mtime and `inputs` (./inputsKey: what else can change the
 * answer); a replaced binary or changed input is probed again, and the
 * binary's old entries go. A probe that throws is not cached.
 */
export async function cachedPerBinary<T>(env: NodeJS.ProcessEnv, name: string, bin: string, inputs: string, probe: () => Promise<T>): Promise<T> {
  const st = statSync(bin);
  const key = `${bin}|${st.size}|${st.mtimeMs}|${inputs}`;
  const cache = readCache<Record<string, T>>(env, name) ?? {};
  const hit = Object.hasOwn(cache, key) ? cache[key] : undefined;
  if (hit) return hit;
  const found = await probe();
  for (const k of Object.keys(cache)) if (k.startsWith(`${bin}|`)) delete cache[k];
  cache[key] = found;
  writeCache(env, name, cache);
  return found;
}
