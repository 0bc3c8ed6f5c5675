/**
 * `secret-in-arg-or-env`: does an ARG or ENV name look like a credential?
 * Exactly Docker's `SecretsUsedInArgOrEnv` build check, copied from
 * moby/buildkit frontend/dockerfile/dockerfile2llb/validations.go
 * (`getSecretsRegex`, `validateNoSecretKey`; commit 22aa6bc5ea1d):
 *
 * - the name is split into words at `_` only (`GITHUB_TOKEN` → GITHUB, TOKEN;
 *   `APIKEY` is one word, `API-KEY` is one word);
 * - it matches when any word is one of SECRET_WORDS, case-insensitively
 *   (Go's `(?i)`: Unicode simple case folding, hence the `u` flag);
 * - unless any word is one of ALLOW_WORDS (`PUBLIC_KEY`, `KEY_FILE`, `TOKEN_VERSION`).
 *
 * BuildKit runs it for each key of a stage's ARG and ENV instructions (dispatchArg,
 * dispatchEnv), not for global ARGs before the first FROM; so does secbuild.
 */

export const SECRET_WORDS = ['apikey', 'auth', 'credential', 'credentials', 'key', 'password', 'pword', 'passwd', 'secret', 'token'] as const;
export const ALLOW_WORDS = ['public', 'file', 'version'] as const;

const words = (list: readonly string[]) => new RegExp(`(?:_|^)(?:${list.join('|')})(?:_|$)`, 'iu');
/** Compiled on first use: a cached build never asks (the check rules and the build-arg guard do). */
let compiled: { deny: RegExp; allow: RegExp } | undefined;

export function looksLikeSecretName(name: string): boolean {
  compiled ??= { deny: words(SECRET_WORDS), allow: words(ALLOW_WORDS) };
  return compiled.deny.test(name) && !compiled.allow.test(name);
}
