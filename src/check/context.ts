/**
 * The build context as the builder receives it: which credential files are in
 * it once .dockerignore has been applied.
 *
 * - The ignore file is `<Dockerfile>.dockerignore` next to the Dockerfile when
 *   it exists, else `.dockerignore` at the context root (BuildKit's dockerui
 *   `readDockerignore` / the documented per-Dockerfile ignore file).
 * - Patterns are matched by `@balena/dockerignore`, a port of moby's
 *   fileutils matcher, case-sensitive as Docker is (`ignorecase: false`).
 * - The walk skips an excluded directory unless a `!` pattern starts inside it,
 *   as tonistiigi/fsutil's walker (used by BuildKit to send the context) does;
 *   symlinks are not followed (the builder receives the link, not its target).
 */
import { readFileSync, readdirSync, type Dirent } from 'node:fs';
import { join, posix } from 'node:path';
import { credentialKind } from './credentials.js';

export interface IgnoreRules {
  /** The ignore file that applies, or undefined when there is none. */
  file?: string;
  /** Is this context-relative path (`/`-separated) excluded? */
  ignores(rel: string): boolean;
  /** Cleaned `!` patterns, for the directory-skipping rule. */
  negations: string[];
}

type Factory = (options?: { ignorecase?: boolean }) => { add(patterns: string | string[]): unknown; ignores(path: string): boolean };

/** A matcher for `patterns` (lines of a .dockerignore, or COPY --exclude values). */
export async function ignoreMatcher(patterns: string[]): Promise<(rel: string) => boolean> {
  // CommonJS module: the factory is module.exports under Node and `default` once bundled by esbuild.
  const mod = (await import('@balena/dockerignore')) as unknown as Factory & { default?: Factory };
  const ignore = mod.default ?? mod;
  const ig = ignore({ ignorecase: false });
  ig.add(patterns);
  return (rel) => rel !== '' && ig.ignores(rel);
}

export async function loadIgnore(contextDir: string, dockerfile: string | undefined): Promise<IgnoreRules> {
  const candidates = [...(dockerfile ? [`${dockerfile}.dockerignore`] : []), join(contextDir, '.dockerignore')];
  for (const file of candidates) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split(/\r?\n/);
    const negations = lines
      .map((l) => l.trim())
      .filter((l) => l.startsWith('!'))
      .map((l) => posix.normalize(l.slice(1).trim()).replace(/^\/+|\/+$/g, ''));
    return { file, ignores: await ignoreMatcher(lines), negations };
  }
  return { ignores: () => false, negations: [] };
}

/** Credential files in the context that the builder receives, context-relative, sorted. */
export function credentialFilesIn(contextDir: string, rules: IgnoreRules): string[] {
  const found: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // unreadable: the builder would fail on it, not send it
    }
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (rules.ignores(path) && !rules.negations.some((n) => `${n}/`.startsWith(`${path}/`))) continue;
        walk(join(dir, e.name), path);
      } else if (e.isFile() && credentialKind(path) && !rules.ignores(path)) {
        found.push(path);
      }
    }
  };
  walk(contextDir, '');
  return found.sort();
}
