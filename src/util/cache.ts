/**
 * A small on-disk cache for what does not change between runs (engine
 * detection per docker binary, preflight results per Dockerfile), in
 * $XDG_CACHE_HOME/secbuild (default ~/.cache/secbuild), mode 0700/0600.
 * It never holds a secret value. A cache that cannot be read or written only
 * costs time.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'secbuild');
}

export function readCache<T>(env: NodeJS.ProcessEnv, name: string): T | undefined {
  if (env.SECBUILD_NO_CACHE === '1') return undefined;
  try {
    return JSON.parse(readFileSync(join(cacheDir(env), name), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function writeCache(env: NodeJS.ProcessEnv, name: string, value: unknown): void {
  if (env.SECBUILD_NO_CACHE === '1') return;
  try {
    const file = join(cacheDir(env), name);
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // only costs time
  }
}

/**
 * What `probe` learns about a binary, cached in `name` under the binary's real
 * path, size and mtime (a replaced binary is probed again; its old entries go).
 * A probe that throws is not cached.
 */
export async function cachedPerBinary<T>(env: NodeJS.ProcessEnv, name: string, bin: string, probe: () => Promise<T>): Promise<T> {
  const st = statSync(bin);
  const key = `${bin}|${st.size}|${st.mtimeMs}`;
  const cache = readCache<Record<string, T>>(env, name) ?? {};
  const hit = cache[key];
  if (hit) return hit;
  const found = await probe();
  for (const k of Object.keys(cache)) if (k.startsWith(`${bin}|`)) delete cache[k];
  cache[key] = found;
  writeCache(env, name, cache);
  return found;
}
