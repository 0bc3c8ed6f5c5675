/**
 * Where a binary is: a path (with a `/`) as given, else the first executable
 * regular file of that name on PATH — as the shell finds it. The real path is
 * returned (detection caches are keyed by it).
 */
import { realpathSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function locate(wanted: string, pathVar: string | undefined): string | undefined {
  const candidates = wanted.includes('/') ? [wanted] : (pathVar ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, wanted));
  for (const c of candidates) {
    try {
      const st = statSync(c);
      if (st.isFile() && (st.mode & 0o111) !== 0) return realpathSync(c);
    } catch {
      // next
    }
  }
  return undefined;
}
