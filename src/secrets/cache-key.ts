/**
 * The cache key: 256 random bits under which a `content` secret's value
 * enters the build as a keyed MAC, never as a plain hash (build-args show in
 * `docker history`, and a plain hash of a short password can be guessed).
 *
 * Where it comes from, first match wins:
 *   1. SECBUILD_CACHE_KEY (CI: a repository secret, so every runner shares
 *      cache hits): at least 32 bytes of text, used as it is. Like every secret
 *      source it is removed from every child's environment (./plan.ts).
 *   2. `$XDG_CONFIG_HOME/secbuild/cache-key` (else ~/.config/…), a 0600 file,
 *      when it exists (a machine whose keychain did not answer once keeps
 *      using it, and a build does not wait for the keychain);
 *   3. the OS keychain item `secbuild/cache-key` (keychain: provider), when a
 *      keychain backend is available and answers; created there on first use;
 *   4. else the file of 2, created on first use. Rotating the key (deleting it, or a new
 * SECBUILD_CACHE_KEY) rebuilds every step with a `content` policy and nothing
 * else. Read only when some secret has a `content` policy.
 */
import { join } from 'node:path';
import type { ChildEnv } from '../run/env.js';
import { UsageError } from '../util/errors.js';
import { createState, readState, refusalText, stateRoot } from '../run/trusted.js';
import { hmacSha256 } from '../util/hmac.js';
import { info } from '../util/log.js';
import { CACHE_KEY_VAR, type CachePolicy } from './cache-policy.js';

const KEY_BYTES = 32;
const ITEM = { service: 'secbuild', account: 'cache-key' };

/** The hex text stored for a fresh key (Web Crypto's CSPRNG; created once per machine). */
function freshKey(): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(KEY_BYTES))).toString('hex');
}

function fromText(text: string, where: string): Buffer {
  const t = text.trim();
  if (/^[0-9a-f]{64}$/i.test(t)) return Buffer.from(t, 'hex');
  throw new UsageError(`${where} does not hold a cache key (64 hex digits); delete it and secbuild creates a new one (steps with cache=content rebuild once).`);
}

export function configDir(env: NodeJS.ProcessEnv): string {
  return stateRoot(env, 'XDG_CONFIG_HOME', '.config');
}

const KEY_FILE = 'cache-key';

function keyFile(env: NodeJS.ProcessEnv): string {
  return join(configDir(env), KEY_FILE);
}

/** Reads the key file, or creates it exclusively (0600, never through a symlink) when absent. */
export function fileKey(env: NodeJS.ProcessEnv): Buffer {
  return readKeyFile(env) ?? createKeyFile(env);
}

/** The key file is at most this long (64 hex digits and a newline). */
const MAX_KEY_FILE = 256;

function createKeyFile(env: NodeJS.ProcessEnv): Buffer {
  const text = Buffer.from(`${freshKey()}\n`);
  try {
    createState(configDir(env), KEY_FILE, text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(env)!; // another run created it first
    const why = (err as NodeJS.ErrnoException).code ?? 'a directory on the way is a symlink or not this user\'s own';
    throw new UsageError(`cannot create the cache key file ${keyFile(env)} (${why}); fix it or set ${CACHE_KEY_VAR}.`, { cause: err });
  }
  return fromText(text.toString(), keyFile(env));
}

/** The key file's key, read through the trusted-state reader (src/run/trusted.ts); undefined when there is none. */
function readKeyFile(env: NodeJS.ProcessEnv): Buffer | undefined {
  const read = readState(configDir(env), KEY_FILE, { maxBytes: MAX_KEY_FILE, private: true });
  if (read.ok) return fromText(read.data.toString('utf8'), keyFile(env));
  if (read.why === 'missing') return undefined;
  throw new UsageError(
    `the cache key file ${keyFile(env)} is not used: ${refusalText(read.why)} (${read.where}). It must be a regular file of this user with mode 0600 in directories only this user can write; fix it (chmod 600, or remove it) or set ${CACHE_KEY_VAR}.`,
  );
}

/** The key from the keychain, created there on first use; undefined when no keychain answers. */
async function keychainKey(childEnv: ChildEnv): Promise<Buffer | undefined> {
  // Loaded here: a build whose key file exists, or that is given SECBUILD_CACHE_KEY, never evaluates it.
  const { keychainBackend, keychainGet, keychainSet } = await import('../../providers/keychain.js');
  const backend = await keychainBackend(childEnv);
  if (backend.kind === 'none') return undefined;
  try {
    const stored = await keychainGet(ITEM, childEnv);
    if (stored !== undefined) return fromText(stored.toString('utf8'), 'the keychain item secbuild/cache-key');
    const text = freshKey();
    await keychainSet(ITEM, Buffer.from(text), childEnv);
    return fromText(text, 'the keychain item secbuild/cache-key');
  } catch (err) {
    if (err instanceof UsageError) throw err;
    info(`the keychain did not answer for the cache key (${(err as Error).message.split('\n')[0]}); using the key file under the config directory.`);
    return undefined;
  }
}

let memo: Promise<Buffer> | undefined;

/** The cache key (see the header for where it comes from); read once per run, however many builds use it. */
export function cacheKey(env: NodeJS.ProcessEnv, childEnv: ChildEnv): Promise<Buffer> {
  memo ??= findKey(env, childEnv);
  memo.catch(() => (memo = undefined));
  return memo;
}

async function findKey(env: NodeJS.ProcessEnv, childEnv: ChildEnv): Promise<Buffer> {
  const given = env[CACHE_KEY_VAR];
  if (given !== undefined && given !== '') {
    const key = Buffer.from(given, 'utf8');
    if (key.length < KEY_BYTES) throw new UsageError(`${CACHE_KEY_VAR} holds ${key.length} bytes; a cache key needs at least ${KEY_BYTES} (make one with: openssl rand -hex 32).`);
    return key;
  }
  const stored = readKeyFile(env);
  if (stored) return stored;
  return (await keychainKey(childEnv)) ?? fileKey(env);
}

/**
 * What enters the build for one secret: with `content`, HMAC-SHA-256 under
 * the key of (id, scope, value), as hex; scope alone needs no key and no
 * value, so it is the scope name itself.
 */
export function cacheInput(policy: CachePolicy, id: string, value: Buffer, key: Buffer | undefined): string {
  if (!policy.content) return `scope:${policy.scope}`;
  if (!key) throw new Error('cacheInput: a content policy needs the cache key');
  return hmacSha256(key, Buffer.from(`secbuild-cache-v1\0${id}\0${policy.scope ?? ''}\0`), value).toString('hex');
}
