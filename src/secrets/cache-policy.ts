/**
 * A secret's cache policy: whether BuildKit may reuse the steps that mount it
 * after its value changed. Pure parsing and formatting, no I/O.
 *
 *   stable                 (the default) BuildKit's own rule: a changed value reuses the cache
 *   content                the steps that mount it rebuild when the value changes
 *   scope:NAME             the steps that mount it are keyed by NAME (prod never reuses staging)
 *   content+scope:NAME     both
 *
 *   --secret id=tok,from=env:TOK,cache=content
 *   --netrc machine=github.com,login=x,password=env:GH,cache=scope:prod
 *
 *   # secbuild.yml
 *   secrets:
 *     tok: { from: env:TOK, cache: content }
 *     api: { from: env:API, cache: { content: true, scope: "${DEPLOY_ENV}" } }
 *
 * How a policy reaches BuildKit (a build-arg declared before each RUN that
 * mounts the secret, carrying a keyed MAC) is src/dockerfile/derive.ts and
 * src/pipeline/cache-args.ts.
 */
import { CACHE_ARG_PREFIX } from '../run/printable.js';
import { showTyped } from '../util/shown.js';


/** The variable a cache key may be given in (./cache-key.ts): src/run/env.ts removes it from every child's environment. */
export { CACHE_KEY_VAR } from '../run/env.js';

export interface CachePolicy {
  /** The value enters the steps' cache key (through a keyed MAC). */
  content: boolean;
  /** The steps are keyed by this name. */
  scope?: string;
}

const SCOPE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Its messages show typed text only through showTyped (src/util/shown.ts): a credential typed as cache= is not echoed. */
class PolicyError extends Error {}

function checkScopeName(scope: string): string {
  if (!SCOPE.test(scope)) {
    throw new PolicyError(`cache scope "${showTyped(scope.slice(0, 40))}" must be 1 to 64 letters, digits, ".", "_" or "-" (for example scope:prod)`);
  }
  return scope;
}

/** `stable`, `content`, `scope:NAME` or `content+scope:NAME`; throws an Error with a one-sentence message. */
export function parseCachePolicy(text: string): CachePolicy | undefined {
  const parts = text.split('+').map((p) => p.trim());
  let content = false;
  let scope: string | undefined;
  let stable = false;
  for (const part of parts) {
    if (part === 'content' && !content) content = true;
    else if (part === 'stable' && parts.length === 1) stable = true;
    else if (part.startsWith('scope:') && scope === undefined) scope = checkScopeName(part.slice('scope:'.length));
    else throw new PolicyError(`cache=${showTyped(text)} is not a cache policy; use stable, content, scope:NAME or content+scope:NAME`);
  }
  if (stable) return undefined;
  return scope === undefined ? { content } : { content, scope };
}

/**
 * secbuild.yml's `cache:`: a policy string, or `{ content: BOOL, scope: NAME }`.
 * `${VAR}` in a scope is replaced from the environment (an unset one is an error).
 * Returns the policy, or a string saying what was expected.
 */
export function configCachePolicy(raw: unknown, env: NodeJS.ProcessEnv): CachePolicy | undefined | { expected: string } {
  try {
    if (typeof raw === 'string') return parseCachePolicy(raw);
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { expected: 'stable, content, scope:NAME, content+scope:NAME or { content: true, scope: NAME }' };
    const o = raw as Record<string, unknown>;
    const unknown = Object.keys(o).find((k) => k !== 'content' && k !== 'scope');
    if (unknown) return { expected: `content: and scope: only (unknown key "${unknown}")` };
    if (o.content !== undefined && typeof o.content !== 'boolean') return { expected: 'content: true or false' };
    if (o.scope !== undefined && typeof o.scope !== 'string') return { expected: 'scope: a name such as prod or ${DEPLOY_ENV}' };
    const content = o.content === true;
    if (o.scope === undefined) return content ? { content } : undefined;
    return { content, scope: checkScopeName(interpolate(o.scope as string, env)) };
  } catch (err) {
    if (err instanceof PolicyError) return { expected: `a valid policy (${err.message})` };
    throw err;
  }
}

function interpolate(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') throw new PolicyError(`\${${name}} in the cache scope is not set; set ${name} or write the scope out`);
    return v;
  });
}

/** Whether any policy is not stable, i.e. the build needs a derived Dockerfile. */
export function isKeyed(p: CachePolicy | undefined): p is CachePolicy {
  return p !== undefined && (p.content || p.scope !== undefined);
}

export function samePolicy(a: CachePolicy | undefined, b: CachePolicy | undefined): boolean {
  return formatPolicy(a) === formatPolicy(b);
}

/** The policy as the user writes it: `stable`, `content`, `scope:prod`, `content+scope:prod`. */
export function formatPolicy(p: CachePolicy | undefined): string {
  if (!isKeyed(p)) return 'stable';
  return [p.content ? 'content' : '', p.scope === undefined ? '' : `scope:${p.scope}`].filter(Boolean).join('+');
}

/**
 * The build-arg that carries a secret's cache input: `SECBUILD_CACHE_ID` and
 * the id with every character other than a letter or digit written as `_XX`
 * (its hex code), so two ids never share a name and the name is stable
 * whatever other secrets a build has. The id is glued to `ID` and every `_` is
 * followed by hex digits, so no part of the name between underscores is a
 * word such as `token` or `key`: BuildKit's SecretsUsedInArgOrEnv check
 * (frontend/dockerfile/linter) never mistakes it for a secret in an ARG.
 */
export function cacheArgName(id: string): string {
  return `${CACHE_ARG_PREFIX}${id.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}`;
}
