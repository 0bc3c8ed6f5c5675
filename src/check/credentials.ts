/**
 * Credential files: which paths count, and how each should reach a build
 * instead (a secret mount). Paths here are relative to the build context,
 * with `/` separators, as .dockerignore and COPY see them.
 */
import { posix } from 'node:path';

interface CredentialKind {
  /** The file's name, or the last two path elements for `.docker/config.json` and `.aws/credentials`. */
  name: string;
  /** How the build should get it instead of a COPY; `envKey` as in secretAsVariable. */
  fix: string | ((envKey: boolean) => string);
}

/**
 * A secret handed to a RUN as variable NAME: `env=NAME` on the mount where the
 * Dockerfile's syntax line gives frontend 1.10 or later (`envKey`), else the
 * form every frontend takes, `NAME="$(cat /run/secrets/NAME)"` (../check/mount-env.ts).
 */
export const secretAsVariable = (name: string, envKey: boolean): string =>
  envKey ? `RUN --mount=type=secret,id=${name},env=${name} …` : `RUN --mount=type=secret,id=${name} ${name}="$(cat /run/secrets/${name})" …`;

const mount = (id: string, target: string, flag: string) =>
  `Mount it only where it is used: RUN --mount=type=secret,id=${id},target=${target} … with ${flag}.`;

export const CREDENTIAL_FILES: readonly CredentialKind[] = [
  { name: '.netrc', fix: mount('netrc', '/root/.netrc', 'secbuild --netrc machine=HOST,login=LOGIN,password=REF') },
  { name: '.npmrc', fix: mount('npmrc', '/root/.npmrc', 'secbuild --npmrc registry=URL,token=REF') },
  { name: '.pypirc', fix: mount('pypirc', '/root/.pypirc', 'secbuild --secret id=pypirc,from=file:.pypirc') },
  { name: '.git-credentials', fix: mount('git-credentials', '/root/.git-credentials', 'secbuild --secret id=git-credentials,from=file:PATH') },
  { name: '.docker/config.json', fix: mount('docker-config', '/root/.docker/config.json', 'secbuild --secret id=docker-config,from=file:PATH') },
  { name: 'id_rsa', fix: 'Use the SSH agent instead: RUN --mount=type=ssh … with docker build --ssh default.' },
  { name: 'id_ed25519', fix: 'Use the SSH agent instead: RUN --mount=type=ssh … with docker build --ssh default.' },
  { name: '.aws/credentials', fix: mount('aws', '/root/.aws/credentials', 'secbuild --secret id=aws,from=file:PATH') },
  { name: '.env', fix: (envKey) => `Pass the values the build needs as secrets: ${secretAsVariable('NAME', envKey)} with secbuild --secret id=NAME,from=env:NAME.` },
];

/** How a COPY of credential `kind` should be replaced, for a Dockerfile whose frontend does (`envKey`) or may not take env= on a mount. */
export function fixOf(kind: CredentialKind, envKey: boolean): string {
  return typeof kind.fix === 'string' ? kind.fix : kind.fix(envKey);
}

/** The credential kind of a context-relative path, if it is one. */
export function credentialKind(rel: string): CredentialKind | undefined {
  return CREDENTIAL_FILES.find((k) => rel === k.name || rel.endsWith(`/${k.name}`));
}

/**
 * A COPY/ADD source as a path relative to the context root: `./a/../b/` → `b`,
 * `/x` → `x`, `.` and `/` → ''. `..` cannot leave the root (BuildKit clamps it).
 */
export function contextPath(source: string): string {
  return posix.normalize(`/${source}`).replace(/^\/+|\/+$/g, '');
}

const GLOB = /[*?[\\]/;

export function isGlob(source: string): boolean {
  return GLOB.test(source);
}

/** Go's path.Match as a RegExp (`*` and `?` stop at `/`; `[...]`, `[^...]`, `\x`); null when malformed. */
export function globRegExp(pattern: string): RegExp | null {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (++i >= pattern.length) return null;
      re += escape(pattern[i]!);
    } else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      let body = close < 0 ? '' : pattern.slice(i + 1, close);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      if (!body) return null;
      re += `[${negated ? '^/' : ''}${body.replace(/[\]\\^]/g, '\\$&')}]`;
      i = close;
    } else re += escape(c);
  }
  return new RegExp(`^${re}$`, 'u');
}

function escape(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The files among `files` (context-relative) that copying `source` brings
 * along: the source itself, everything under it when it is a directory
 * (`.` is the whole context), and for a glob every match and everything under
 * a matched directory.
 */
export function copiedBy(source: string, files: readonly string[]): string[] {
  const src = contextPath(source);
  if (src === '') return [...files];
  if (!isGlob(src)) return files.filter((f) => f === src || f.startsWith(`${src}/`));
  const re = globRegExp(src);
  if (!re) return [];
  const depth = src.split('/').length;
  return files.filter((f) => {
    const parts = f.split('/');
    return parts.length >= depth && re.test(parts.slice(0, depth).join('/'));
  });
}
