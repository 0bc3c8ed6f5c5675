/**
 * `op://VAULT/ITEM[/SECTION]/FIELD` — a field of a 1Password item, read with
 * the 1Password CLI exactly as `op read` takes the reference (secret
 * reference syntax, query parameters such as `?attribute=otp` included):
 * `op read --no-newline op://VAULT/ITEM/FIELD`. The bare form without the
 * slashes, `op:VAULT/ITEM/FIELD`, is the same reference.
 *
 *   secbuild --secret id=npm,from=op://ci/npm/token -t app .
 *   secbuild --env NPM_TOKEN=op://ci/npm/publish/token exec -- npm publish
 *
 *   # secbuild.yml
 *   secrets:
 *     npm: { from: "op://ci/npm/token" }
 *
 * Sign-in is the CLI's business: a service account (OP_SERVICE_ACCOUNT_TOKEN),
 * a Connect server (OP_CONNECT_HOST, OP_CONNECT_TOKEN), the desktop app's CLI
 * integration (OP_ACCOUNT picks the account), or an `op signin` session
 * (OP_SESSION_*). `op` gets PATH, HOME, XDG_CONFIG_HOME, OP_CONFIG_DIR,
 * OP_ACCOUNT, OP_CONNECT_HOST, the two tokens and OP_SESSION_* variables, and
 * nothing else (./store-cli.ts); the two tokens are removed from every other
 * child's environment. The reference is in its argv (a path, never a value).
 * No such vault, item, section or field is `MissingSecret`; not signed in,
 * an invalid reference and op not installed are errors that name the
 * reference, never what op printed.
 */
import type { ChildEnv } from '../src/run/env.js';
import { withVars } from '../src/run/env.js';
import { cliVersion, runStoreCli, storeEnv } from './store-cli.js';
import { anySet, MissingSecret, ProviderError, type ResolveContext, type SecretProvider } from './types.js';

/** Credentials: given to op, removed from every other child's environment (with each OP_SESSION_<account> of an `op signin`). */
export const OP_CREDENTIAL_VARS = ['OP_SERVICE_ACCOUNT_TOKEN', 'OP_CONNECT_TOKEN'];
export const OP_VARS = ['HOME', 'XDG_CONFIG_HOME', 'OP_CONFIG_DIR', 'OP_ACCOUNT', 'OP_CONNECT_HOST'];
const INSTALL = "install 1Password's CLI from https://developer.1password.com/docs/cli/get-started/ (not a Debian package; on macOS: brew install 1password-cli)";

/** The reference as `op read` takes it: `op://` and the key without its leading slashes. */
export function opReference(key: string): string {
  return `op://${key.replace(/^\/\//, '')}`;
}

/** A problem with the reference's shape, or undefined (op://VAULT/ITEM[/SECTION]/FIELD[?QUERY]). */
export function checkOpKey(key: string): string | undefined {
  if (/[\0-\x1f\x7f]/.test(key)) return 'the reference holds a control character';
  const path = opReference(key).slice('op://'.length).split('?')[0]!;
  const parts = path.split('/');
  if (parts.length < 3 || parts.length > 4) return 'write op://VAULT/ITEM/FIELD or op://VAULT/ITEM/SECTION/FIELD';
  if (parts.some((p) => p.trim() === '')) return 'the reference has an empty vault, item, section or field name';
  return undefined;
}

/** op's environment: what it reads to find its account and sign in, nothing else. */
function opEnv(ctx: Pick<ResolveContext, 'env' | 'childEnv'>): ChildEnv {
  const creds: Record<string, string | undefined> = {};
  for (const name of OP_CREDENTIAL_VARS) creds[name] = ctx.env[name] || undefined;
  for (const [name, v] of Object.entries(ctx.env)) if (/^OP_SESSION_\w+$/.test(name) && v) creds[name] = v;
  return withVars(storeEnv(ctx, OP_VARS), creds);
}

/** What went wrong, in secbuild's words, from op's stderr (never quoted: it may hold anything). */
function opFailure(ref: string, stderr: string, exitCode: number | undefined): Error {
  if (/could not find|isn't an? (item|vault|field|section)|does not have a field|no item found/i.test(stderr)) {
    return new MissingSecret(`${ref}: 1Password has no such vault, item or field for this account; check the reference (copy it from the app with "Copy Secret Reference")`);
  }
  if (/invalid secret reference|secret references should match|too many '\/'|invalid character/i.test(stderr)) {
    return new ProviderError(`${ref}: op refused the reference as invalid; write op://VAULT/ITEM/FIELD or op://VAULT/ITEM/SECTION/FIELD`);
  }
  if (/not (currently )?signed in|sign ?in|unauthori[sz]ed|authenticat|session (has )?expired|invalid token|service account|connect server/i.test(stderr)) {
    return new ProviderError(`${ref}: op is not signed in; set OP_SERVICE_ACCOUNT_TOKEN (a service account), or turn on the 1Password app's CLI integration (and OP_ACCOUNT), then try: op whoami`);
  }
  return new ProviderError(`${ref}: op exited with code ${exitCode ?? 'unknown'}; run: op read ${ref.slice('op:'.length)} > /dev/null to see why`);
}

export const opProvider = {
  scheme: 'op',
  usage: 'op://VAULT/ITEM[/SECTION]/FIELD a 1Password field, as `op read` takes it',
  check: checkOpKey,
  describe: (key) => `op:${key}`,
  envVars: () => [...OP_CREDENTIAL_VARS, 'OP_SESSION_*'],
  // `op --version` and which variables are set: nothing is read from 1Password.
  // Used: an op: reference in the specs, or an OP_* variable set.
  async readiness(ctx) {
    const env = ctx.env;
    const used = ctx.refs.length > 0 || anySet(env, /^OP_/);
    const version = await cliVersion('op', ['--version'], opEnv(ctx));
    if (!version) return { store: '1password', ok: false, used, text: used ? `the op command is not installed, so op: references will fail; ${INSTALL}` : `op: references need the op CLI: ${INSTALL}` };
    const auth = env.OP_SERVICE_ACCOUNT_TOKEN ? 'a service account (OP_SERVICE_ACCOUNT_TOKEN)'
      : env.OP_CONNECT_HOST && env.OP_CONNECT_TOKEN ? `a Connect server (OP_CONNECT_HOST)`
      : env.OP_ACCOUNT ? `account ${env.OP_ACCOUNT} (OP_ACCOUNT, the app's CLI integration)`
      : Object.keys(env).some((k) => /^OP_SESSION_\w+$/.test(k) && env[k]) ? 'an op signin session (OP_SESSION_*)' : undefined;
    const signIn = 'OP_SERVICE_ACCOUNT_TOKEN, OP_CONNECT_HOST and OP_CONNECT_TOKEN, or OP_ACCOUNT';
    if (!auth) return { store: '1password', ok: false, used, text: used ? `${version} found, but no ${signIn}; set one (or turn on the 1Password app's CLI integration)` : `${version} found; op: references need ${signIn}` };
    return { store: '1password', ok: true, used, text: `${version}, sign-in by ${auth} (not checked with 1Password: nothing is read)` };
  },
  async resolve(key, ctx) {
    const ref = `op:${key}`;
    const call = { ref, tool: 'op', install: INSTALL, env: opEnv(ctx) };
    const r = await runStoreCli(call, ['read', '--no-newline', opReference(key)], ctx);
    if (r.exitCode !== 0) {
      r.stdout.fill(0);
      throw opFailure(ref, r.stderr, r.exitCode);
    }
    return r.stdout;
  },
} satisfies SecretProvider;
