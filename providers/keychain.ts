/**
 * `keychain:SERVICE/ACCOUNT` — an item of the OS keychain, in the schema keytar
 * uses (a generic password with a service and an account attribute). The key is
 * split at its first `/`.
 *
 *   secret-tool store --label=npm service npm account ci      # Linux (Secret Service)
 *   security add-generic-password -s npm -a ci -w             # macOS
 *   secbuild secret set npm/ci                                # either, from stdin
 *   secbuild --secret id=npm,from=keychain:npm/ci -t app .
 *
 *   # secbuild.yml
 *   secrets:
 *     npm: { from: "keychain:npm/ci" }
 *
 * Backend: keytar when it loads (an optional, lazily loaded native module);
 * otherwise the platform CLI: `secret-tool` (libsecret-tools) on Linux,
 * `security` on macOS. SECBUILD_KEYCHAIN_BACKEND=keytar|cli forces one.
 * keytar returns strings, so through keytar a value is its UTF-8 bytes;
 * through secret-tool it is byte-exact.
 */
import type { ChildEnv } from '../src/run/env.js';
import { capture } from '../src/run/exec.js';
import { MissingSecret, ProviderError, type ResolveContext, type SecretProvider } from './types.js';

export interface KeychainItem {
  service: string;
  account: string;
}

export function parseKeychainKey(key: string): KeychainItem | undefined {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) return undefined;
  return { service: key.slice(0, slash), account: key.slice(slash + 1) };
}

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export type Backend =
  | { kind: 'keytar'; keytar: Keytar }
  | { kind: 'cli'; tool: 'secret-tool' | 'security' }
  | { kind: 'none'; why: string };

let cached: Promise<Backend> | undefined;

async function loadKeytar(): Promise<Keytar | string> {
  try {
    const mod = (await import('keytar')) as unknown as { default?: Keytar } & Keytar;
    return mod.default ?? mod;
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? 'cannot be loaded';
  }
}

async function hasTool(tool: string, env: ChildEnv): Promise<boolean> {
  const probe = tool === 'security' ? ['help'] : ['--version'];
  const r = await capture(tool, probe, { env, timeoutMs: 10_000 });
  return !r.failedToStart;
}

/** Picks the keychain backend once per process. */
export function keychainBackend(env: ChildEnv): Promise<Backend> {
  cached ??= (async (): Promise<Backend> => {
    const forced = env.SECBUILD_KEYCHAIN_BACKEND;
    if (forced && forced !== 'keytar' && forced !== 'cli') {
      return { kind: 'none', why: `SECBUILD_KEYCHAIN_BACKEND is "${forced}"; use keytar or cli` };
    }
    let keytarProblem = 'not wanted';
    if (forced !== 'cli') {
      const k = await loadKeytar();
      if (typeof k !== 'string') return { kind: 'keytar', keytar: k };
      keytarProblem = k;
      if (forced === 'keytar') {
        return { kind: 'none', why: `keytar could not be loaded (${keytarProblem}); reinstall secbuild with libsecret-1-dev and a C++ compiler present, or unset SECBUILD_KEYCHAIN_BACKEND` };
      }
    }
    const tool = process.platform === 'darwin' ? 'security' : process.platform === 'linux' ? 'secret-tool' : undefined;
    if (!tool) return { kind: 'none', why: `keytar is not installed and ${process.platform} has no keychain CLI fallback; install keytar (npm install keytar)` };
    if (await hasTool(tool, env)) return { kind: 'cli', tool };
    const pkg = tool === 'secret-tool' ? 'install libsecret-tools (apt-get install libsecret-tools)' : 'the security tool ships with macOS';
    return { kind: 'none', why: `neither keytar nor ${tool} is available; ${pkg}, or install keytar` };
  })();
  return cached;
}

/** For tests: forget the chosen backend. */
export function resetKeychainBackend(): void {
  cached = undefined;
}

/** What to do when the keychain does not answer: the one sentence both backends end their errors with. */
const KEYCHAIN_FIX = process.platform === 'darwin'
  ? 'unlock the login keychain (security unlock-keychain)'
  : 'start a Secret Service (for example gnome-keyring-daemon in a D-Bus session) and unlock the keyring';

function cliFailure(tool: string, r: { exitCode: number | undefined; stderr: string }): ProviderError {
  const err = r.stderr.trim().split('\n').slice(-2).join(' ');
  return new ProviderError(`${tool} exited with code ${r.exitCode}${err ? ` (${err})` : ''}; ${KEYCHAIN_FIX}.`);
}

/**
 * Every keytar call goes through here: whatever keytar throws (no D-Bus
 * session, no Secret Service, a locked or dismissed collection) is a
 * keychain error (exit 3), never an internal one. keytar's message is
 * libsecret's and holds no value; its first line is kept.
 */
async function viaKeytar<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const said = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
    throw new ProviderError(`keytar could not ${what} the keychain (${said || 'no message'}); ${KEYCHAIN_FIX}, or set SECBUILD_KEYCHAIN_BACKEND=cli to use ${process.platform === 'darwin' ? 'security' : 'secret-tool'} instead.`);
  }
}

export async function keychainGet(item: KeychainItem, env: ChildEnv): Promise<Buffer | undefined> {
  const backend = await keychainBackend(env);
  switch (backend.kind) {
    case 'none':
      throw new ProviderError(backend.why);
    case 'keytar': {
      const value = await viaKeytar('read', () => backend.keytar.getPassword(item.service, item.account));
      return value === null ? undefined : Buffer.from(value, 'utf8');
    }
    case 'cli': {
      if (backend.tool === 'secret-tool') {
        const r = await capture('secret-tool', ['lookup', 'service', item.service, 'account', item.account], { env });
        // secret-tool exits 1 with empty output when nothing matches.
        if (r.exitCode === 1 && r.stdout.length === 0 && r.stderr.trim() === '') return undefined;
        if (r.exitCode !== 0) throw cliFailure('secret-tool', r);
        return r.stdout;
      }
      const r = await capture('security', ['find-generic-password', '-s', item.service, '-a', item.account, '-w'], { env });
      if (r.exitCode === 44) return undefined; // errSecItemNotFound
      if (r.exitCode !== 0) throw cliFailure('security', r);
      // `security -w` ends the password with one newline.
      const out = r.stdout;
      return out.length > 0 && out[out.length - 1] === 0x0a ? out.subarray(0, -1) : out;
    }
  }
}

export async function keychainSet(item: KeychainItem, value: Buffer, env: ChildEnv): Promise<void> {
  const backend = await keychainBackend(env);
  if (backend.kind === 'none') throw new ProviderError(backend.why);
  if (backend.kind === 'keytar') {
    const { keytar } = backend;
    await viaKeytar('write to', () => keytar.setPassword(item.service, item.account, value.toString('utf8')));
    return;
  }
  if (backend.tool === 'security') {
    // `security` takes the password only in argv or from its own prompt; argv would expose it.
    throw new ProviderError(`without keytar, store the item with macOS's own prompt: security add-generic-password -s ${item.service} -a ${item.account} -w`);
  }
  const label = `${item.service}/${item.account} (secbuild)`;
  const r = await capture('secret-tool', ['store', `--label=${label}`, 'service', item.service, 'account', item.account], { env, input: value });
  if (r.exitCode !== 0) throw cliFailure('secret-tool', r);
}

export async function keychainDelete(item: KeychainItem, env: ChildEnv): Promise<boolean> {
  const backend = await keychainBackend(env);
  if (backend.kind === 'none') throw new ProviderError(backend.why);
  if (backend.kind === 'keytar') {
    const { keytar } = backend;
    return viaKeytar('remove from', () => keytar.deletePassword(item.service, item.account));
  }
  if (backend.tool === 'security') {
    const r = await capture('security', ['delete-generic-password', '-s', item.service, '-a', item.account], { env });
    if (r.exitCode === 44) return false;
    if (r.exitCode !== 0) throw cliFailure('security', r);
    return true;
  }
  const existing = await keychainGet(item, env);
  if (existing === undefined) return false;
  const r = await capture('secret-tool', ['clear', 'service', item.service, 'account', item.account], { env });
  if (r.exitCode !== 0) throw cliFailure('secret-tool', r);
  return true;
}

export const keychainProvider = {
  scheme: 'keychain',
  usage: 'keychain:SERVICE/ACCOUNT  an OS keychain item (keytar schema)',
  check: (key) => (parseKeychainKey(key) ? undefined : 'the text after it is not SERVICE/ACCOUNT'),
  describe: (key) => `keychain:${key}`,
  async resolve(key: string, ctx: ResolveContext) {
    const item = parseKeychainKey(key)!;
    const value = await keychainGet(item, ctx.childEnv);
    if (value === undefined) throw new MissingSecret(`no keychain item with service "${item.service}" and account "${item.account}"; store one with: secbuild secret set ${key}`);
    return value;
  },
} satisfies SecretProvider;
