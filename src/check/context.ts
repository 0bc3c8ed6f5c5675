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
 * - A COPY, though, follows a symlink it names or a glob matches (BuildKit's
 *   Dockerfile frontend sets FollowSymlinks; tonistiigi/fsutil copy/copy.go
 *   `rootPath` → containerd/continuity fs.RootPath): `resolveInContext` does
 *   the same resolution, inside the context root.
 */
import { lstatSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { join, posix } from 'node:path';
import { UsageError } from '../util/errors.js';
import { isTooLarge, MAX_DOCKERFILE_BYTES, readBounded } from '../util/read.js';
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
      text = (await readBounded(file, MAX_DOCKERFILE_BYTES)).toString('utf8');
    } catch (err) {
      if (isTooLarge(err)) throw new UsageError(`ignore file ${file} is larger than 1 MiB; shorten it (secbuild reads at most 1 MiB of it, as of a Dockerfile).`, { cause: err });
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

/** What the builder receives of the context, as the COPY rule needs it (context-relative paths, sorted). */
export interface ContextEntries {
  /** Credential files (regular files only). */
  files: string[];
  /** Symlinks, not followed: a COPY follows one it names or a glob matches. */
  links: string[];
}

/** Credential files in the context that the builder receives, context-relative, sorted. */
export function credentialFilesIn(contextDir: string, rules: IgnoreRules): string[] {
  return contextEntries(contextDir, rules).files;
}

export function contextEntries(contextDir: string, rules: IgnoreRules): ContextEntries {
  const found: string[] = [];
  const links: string[] = [];
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
      } else if (e.isSymbolicLink() && !rules.ignores(path)) {
        links.push(path);
      }
    }
  };
  walk(contextDir, '');
  return { files: found.sort(), links: links.sort() };
}

/** Linux's SYMLOOP_MAX, as continuity counts: more links than this in one path is a loop. */
const MAX_LINKS = 255;

/**
 * The context-relative path `rel` resolves to in the builder, every symlink on
 * the way followed inside the context root (continuity fs.RootPath): a link's
 * absolute target starts at the root, `..` stops at it, and a missing element
 * is kept as it is. Undefined for a loop.
 */
export function resolveInContext(contextDir: string, rel: string): string | undefined {
  let todo = rel.split('/');
  let done: string[] = [];
  let hops = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const path = join(contextDir, ...done, name);
    let target: string | undefined;
    try {
      if (lstatSync(path).isSymbolicLink()) target = readlinkSync(path);
    } catch {
      // missing (or not under a directory): kept as it is, as RootPath does
    }
    if (target === undefined) {
      done.push(name);
      continue;
    }
    if (++hops > MAX_LINKS) return undefined;
    if (target.startsWith('/')) done = [];
    todo = [...target.split('/'), ...todo];
  }
  return done.join('/');
}
