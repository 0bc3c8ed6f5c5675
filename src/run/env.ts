/**
 * The environment a child process gets. `ChildEnv` is a branded type that only
 * the functions in this file can make, and the exec seam (./exec.ts) takes
 * nothing else: passing `process.env` to a child does not type-check, so no
 * child can receive a variable a secret was read from by accident.
 *
 * - `scrubEnv(env, sensitive)`: the one way to make a ChildEnv from a process
 *   environment: it minus every variable a secret is read from (`sensitive`,
 *   from the specs: src/secrets/plan.ts `childEnvFor`) and, always, minus
 *   SECBUILD_CACHE_KEY (the cache-policy key is a secret whether or not this
 *   run reads it). Every child of every command — builds, compose, exec and
 *   its command, verify, podman, probes, `cmd:` and keychain providers —
 *   gets its environment from here (test/cli/child-env.test.ts);
 * - `minimalEnv(env)`: PATH only (the watchdog and the ssh agents need nothing else);
 * - `withVars(child, vars)`: a ChildEnv plus named variables — the one way to
 *   add to it (DOCKER_BUILDKIT=1; a build-arg the user let through by name).
 */

/** The variable a cache-policy key may be given in (src/secrets/cache-key.ts). */
export const CACHE_KEY_VAR = 'SECBUILD_CACHE_KEY';

/** Variables that are secrets whatever the specs say: removed from every child's environment. */
export const ALWAYS_SECRET: readonly string[] = [CACHE_KEY_VAR];

declare const scrubbed: unique symbol;

export type ChildEnv = Readonly<Record<string, string>> & { readonly [scrubbed]: true };

function brand(vars: Record<string, string>): ChildEnv {
  return Object.freeze(vars) as ChildEnv;
}

/** `env` without the variables secrets are read from, without SECBUILD_CACHE_KEY and without unset entries. */
export function scrubEnv(env: NodeJS.ProcessEnv, sensitive: ReadonlySet<string>): ChildEnv {
  // A name ending in `*` is a prefix: op's OP_SESSION_* (one variable per account).
  const prefixes = [...sensitive].filter((n) => n.endsWith('*')).map((n) => n.slice(0, -1));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !sensitive.has(k) && !ALWAYS_SECRET.includes(k) && !prefixes.some((p) => k.startsWith(p))) out[k] = v;
  return brand(out);
}

/** PATH alone, for helpers that run only standard tools. */
export function minimalEnv(env: NodeJS.ProcessEnv): ChildEnv {
  return brand({ PATH: env.PATH || '/usr/local/bin:/usr/bin:/bin' });
}

/** A ChildEnv with `vars` set (an undefined value removes the variable). */
export function withVars(base: ChildEnv, vars: Readonly<Record<string, string | undefined>>): ChildEnv {
  const out: Record<string, string> = { ...base };
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return brand(out);
}
