/**
 * `vault:MOUNT/PATH[#FIELD]` — a secret of a Vault or OpenBao KV secrets
 * engine (version 2 or 1), read over the HTTP API (./vault-http.ts): no CLI.
 *
 * - The mount and its KV version come from `GET /v1/sys/internal/ui/mounts/PATH`
 *   (what `vault kv get` asks first); a v2 secret is then read from
 *   `MOUNT/data/REST`, a v1 secret from `MOUNT/REST`. An old Vault that
 *   answers 404 there is read as v1, as the CLI does.
 * - `#FIELD` takes one key of the secret's data: a string as it is, anything
 *   else as its JSON text. Without `#`, a secret with exactly one key gives
 *   that key's value.
 *
 *   vault kv put -mount=secret ci/npm token=…
 *   secbuild --secret id=npm,from=vault:secret/ci/npm#token -t app .
 *
 *   secbuild --secret id=npm,from=vault:secret/ci/npm#token,role-id=env:ROLE,secret-id=keychain:vault/ci -t app .
 *
 *   # secbuild.yml
 *   secrets:
 *     npm: { from: "vault:secret/ci/npm#token" }
 *     db: { from: "vault:secret/ci/db#password", role-id: "env:ROLE", secret-id: "keychain:vault/ci" }
 *
 * Connection: VAULT_ADDR (required), VAULT_TOKEN — or an AppRole login
 * (`POST auth/approle/login`, mount VAULT_APPROLE_MOUNT, default approle)
 * with the role id and secret id from `role-id=REF` and `secret-id=REF` in
 * the spec (resolved first through their own providers, masked, never argv),
 * else from VAULT_ROLE_ID and VAULT_SECRET_ID — VAULT_NAMESPACE (the
 * X-Vault-Namespace header), VAULT_CACERT, VAULT_CLIENT_TIMEOUT. A spec
 * reference wins over VAULT_TOKEN. The token and the secret id are removed
 * from every child's environment. No such path and no such field are
 * `MissingSecret`; errors never hold Vault's body.
 */
import { MAX_SECRET_BYTES } from '../src/secrets/limits.js';
import { anySet, MissingSecret, ProviderError, type Readiness, type ResolveContext, type SecretProvider } from './types.js';
import { readCaCert, vaultRequest, VaultHttpError, type VaultAnswer, type VaultConn } from './vault-http.js';

export const VAULT_CREDENTIAL_VARS = ['VAULT_TOKEN', 'VAULT_SECRET_ID'];

export interface VaultKey {
  path: string;
  field: string | undefined;
}

export function parseVaultKey(key: string): VaultKey | string {
  const hash = key.lastIndexOf('#');
  const path = (hash < 0 ? key : key.slice(0, hash)).replace(/^\/+|\/+$/g, '');
  const field = hash < 0 ? undefined : key.slice(hash + 1);
  if (path === '') return 'the secret path is empty';
  if (!path.includes('/')) return 'write MOUNT/PATH (for example secret/ci/npm)';
  if (/[\0-\x1f?]/.test(key)) return 'the path holds a control character or "?"';
  if (path.split('/').some((s) => s === '..' || s === '.' || s === '')) return 'the path has an empty, "." or ".." segment';
  if (field !== undefined && field === '') return 'the field name after "#" is empty';
  return { path, field };
}

const enc = (path: string) => path.split('/').map(encodeURIComponent).join('/');

interface Call {
  ref: string;
  conn: VaultConn;
  token: string;
}

async function ask(ref: string, conn: VaultConn, method: 'GET' | 'POST', api: string, token: string | undefined, json?: unknown): Promise<VaultAnswer> {
  try {
    return await vaultRequest(conn, method, api, token, json);
  } catch (e) {
    const at = `Vault at ${conn.addr.origin}`;
    if (!(e instanceof VaultHttpError)) throw new ProviderError(`${ref}: the request to ${at} failed; check VAULT_ADDR`);
    if (e.kind === 'too-large') throw new ProviderError(`${ref}: ${at} answered with more than 500 KiB; BuildKit accepts at most ${MAX_SECRET_BYTES} bytes (500 KiB) per secret`);
    if (e.kind === 'timeout') throw new ProviderError(`${ref}: ${at} did not answer within ${e.code} (VAULT_CLIENT_TIMEOUT); check VAULT_ADDR and the network`);
    if (e.kind === 'tls') throw new ProviderError(`${ref}: ${at} presented a certificate that could not be verified (${e.code}); set VAULT_CACERT to the CA's PEM file`);
    throw new ProviderError(`${ref}: could not reach ${at} (${e.code}); check VAULT_ADDR and that Vault is running`);
  }
}

/** Parses a JSON body, zeroes the bytes; undefined when it is not JSON. */
function json(body: Buffer): Record<string, unknown> | undefined {
  try {
    const doc: unknown = JSON.parse(body.toString('utf8'));
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  } finally {
    body.fill(0);
  }
}

function statusError(ref: string, status: number, what: string): Error {
  if (status === 403) return new ProviderError(`${ref}: Vault denied permission to ${what} (403); check that the token is valid and its policy grants read on it`);
  return new ProviderError(`${ref}: Vault answered HTTP ${status} to reading ${what}; check VAULT_ADDR, VAULT_NAMESPACE and the path`);
}

async function connect(ref: string, env: NodeJS.ProcessEnv): Promise<Omit<Call, 'token'> & { token: string | undefined }> {
  const raw = env.VAULT_ADDR;
  if (!raw) throw new ProviderError(`${ref}: VAULT_ADDR is not set; set it to your Vault's address (for example https://vault.example.com:8200)`);
  let addr: URL;
  try {
    addr = new URL(raw);
  } catch {
    throw new ProviderError(`${ref}: VAULT_ADDR is not a URL; set it to your Vault's address (for example https://vault.example.com:8200)`);
  }
  if (addr.protocol !== 'http:' && addr.protocol !== 'https:') throw new ProviderError(`${ref}: VAULT_ADDR must start with https:// or http://`);
  let ca: Buffer | undefined;
  if (env.VAULT_CACERT) {
    ca = await readCaCert(env.VAULT_CACERT).catch(() => {
      throw new ProviderError(`${ref}: VAULT_CACERT names ${env.VAULT_CACERT}, which cannot be read; point it at the CA's PEM file`);
    });
  }
  const asked = Number(env.VAULT_CLIENT_TIMEOUT ?? 60);
  const conn = { addr, namespace: env.VAULT_NAMESPACE || undefined, ca, timeoutMs: (Number.isFinite(asked) && asked > 0 ? asked : 60) * 1000 };
  return { ref, conn, token: env.VAULT_TOKEN || undefined };
}

/** One AppRole credential: the spec's reference (`role-id=REF`), else its variable; `where` names it for messages. */
function credential(ctx: ResolveContext, key: 'role-id' | 'secret-id', variable: string): { value: string | undefined; where: string } {
  const given = ctx.inputs?.[key];
  // Role and secret ids hold no line break: a file's final newline is dropped.
  return given ? { value: given.toString('utf8').replace(/\r?\n$/, ''), where: `${key}=` } : { value: ctx.env[variable] || undefined, where: variable };
}

/**
 * VAULT_TOKEN, or a token from an AppRole login with the role id and secret
 * id (each from the spec's `role-id=`/`secret-id=` reference, else
 * VAULT_ROLE_ID/VAULT_SECRET_ID). A spec reference wins over VAULT_TOKEN.
 */
async function login(c: Awaited<ReturnType<typeof connect>>, ctx: ResolveContext): Promise<Call> {
  const byRef = ctx.inputs?.['role-id'] !== undefined || ctx.inputs?.['secret-id'] !== undefined;
  if (c.token && !byRef) return { ...c, token: c.token };
  const role = credential(ctx, 'role-id', 'VAULT_ROLE_ID');
  const secret = credential(ctx, 'secret-id', 'VAULT_SECRET_ID');
  if (!role.value || !secret.value) {
    if (!byRef) throw new ProviderError(`${c.ref}: no Vault token; set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID for an AppRole login`);
    const missing = role.value ? 'secret-id=REF (or VAULT_SECRET_ID)' : 'role-id=REF (or VAULT_ROLE_ID)';
    throw new ProviderError(`${c.ref}: an AppRole login needs a role id and a secret id; give ${missing} as well`);
  }
  const mount = ctx.env.VAULT_APPROLE_MOUNT || 'approle';
  const r = await ask(c.ref, c.conn, 'POST', `auth/${enc(mount)}/login`, undefined, { role_id: role.value, secret_id: secret.value });
  const doc = json(r.body);
  const token = (doc?.auth as { client_token?: unknown } | undefined)?.client_token;
  if (r.status !== 200 || typeof token !== 'string') {
    throw new ProviderError(`${c.ref}: the AppRole login at auth/${mount} was refused (HTTP ${r.status}); check ${role.where} and ${secret.where}`);
  }
  return { ...c, token };
}

/** The secret's data (v2: data.data, v1: data), or MissingSecret. */
async function readData(call: Call, path: string): Promise<Record<string, unknown>> {
  const { ref } = call;
  const pre = await ask(ref, call.conn, 'GET', `sys/internal/ui/mounts/${enc(path)}`, call.token);
  const mount = json(pre.body)?.data as { path?: unknown; options?: { version?: unknown } | null } | undefined;
  let api: string;
  let v2 = false;
  if (pre.status === 404) api = enc(path); // a Vault older than the preflight: KV v1
  else if (pre.status !== 200 || typeof mount?.path !== 'string') throw statusError(ref, pre.status, `the mount of "${path}"`);
  else {
    const mp = mount.path.replace(/\/+$/, '');
    const rest = path.startsWith(`${mp}/`) ? path.slice(mp.length + 1) : '';
    if (rest === '') throw new ProviderError(`${ref}: "${path}" names the mount ${mp}/ itself, not a secret in it; write MOUNT/PATH`);
    v2 = String(mount.options?.version ?? '1') === '2';
    api = v2 ? `${enc(mp)}/data/${enc(rest)}` : `${enc(mp)}/${enc(rest)}`;
  }
  const r = await ask(ref, call.conn, 'GET', api, call.token);
  const doc = json(r.body);
  const missing = () => new MissingSecret(`${ref}: Vault has no secret at "${path}"${call.conn.namespace ? ` in namespace ${call.conn.namespace}` : ''}; check the path, or write it with: vault kv put ${path} KEY=…`);
  if (r.status === 404) throw missing();
  if (r.status !== 200) throw statusError(ref, r.status, `"${path}"`);
  const outer = doc?.data as Record<string, unknown> | null | undefined;
  const data = v2 ? (outer?.data as Record<string, unknown> | null | undefined) : outer;
  if (data === null && v2) throw missing(); // the current version is deleted or destroyed
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ProviderError(`${ref}: Vault's answer for "${path}" is not a KV secret; check that ${path.split('/')[0]}/ is a KV secrets engine`);
  return data;
}

export const vaultProvider = {
  scheme: 'vault',
  usage: 'vault:MOUNT/PATH[#FIELD] a Vault/OpenBao KV (v2 or v1) secret, or one field of it',
  check(key) {
    const k = parseVaultKey(key);
    return typeof k === 'string' ? k : undefined;
  },
  describe: (key) => `vault:${key}`,
  takes: { 'role-id': 'optional', 'secret-id': 'optional' },
  envVars: () => VAULT_CREDENTIAL_VARS,
  // Only whether the variables are set and which references the specs give: no request, nothing read.
  // Used: a vault: reference in the specs, or a VAULT_* variable set.
  async readiness(ctx): Promise<Readiness> {
    const { env, refs } = ctx;
    const used = refs.length > 0 || anySet(env, /^VAULT_/);
    if (!env.VAULT_ADDR) {
      return { store: 'vault', ok: false, used, text: used ? 'VAULT_ADDR is not set; vault: references will fail until it names your Vault (for example https://vault.example.com:8200)' : "vault: references need VAULT_ADDR (your Vault's address) and VAULT_TOKEN or an AppRole" };
    }
    // As login() decides: a reference with role-id= or secret-id= logs in by AppRole (the other half may come from VAULT_ROLE_ID/VAULT_SECRET_ID).
    const given = (r: (typeof refs)[number], key: string) => r.inputs?.[key] !== undefined;
    const byRef = refs.filter((r) => given(r, 'role-id') || given(r, 'secret-id'));
    const half = byRef.find((r) => !(given(r, 'role-id') || env.VAULT_ROLE_ID) || !(given(r, 'secret-id') || env.VAULT_SECRET_ID));
    if (half) return { store: 'vault', ok: false, used, text: `VAULT_ADDR is set, but a vault: reference gives only one of role-id= and secret-id=; give both (or set VAULT_ROLE_ID or VAULT_SECRET_ID for the other)` };
    const byEnv = env.VAULT_TOKEN ? 'VAULT_TOKEN' : env.VAULT_ROLE_ID && env.VAULT_SECRET_ID ? 'AppRole (VAULT_ROLE_ID, VAULT_SECRET_ID)' : undefined;
    const needsEnv = refs.length === 0 || byRef.length < refs.length; // a reference without role-id=/secret-id=, or none at all
    if (!byEnv && needsEnv) {
      return { store: 'vault', ok: false, used, text: `VAULT_ADDR is set, but no token; set VAULT_TOKEN, or VAULT_ROLE_ID and VAULT_SECRET_ID (or give role-id=REF and secret-id=REF in the spec)` };
    }
    const auth = [byRef.length > 0 ? 'an AppRole login that will use the role-id= and secret-id= references of the spec' : '', needsEnv ? byEnv : ''].filter(Boolean).join(', and ');
    return { store: 'vault', ok: true, used, text: `VAULT_ADDR is set, auth by ${auth}${env.VAULT_NAMESPACE ? `, namespace ${env.VAULT_NAMESPACE}` : ''} (not checked with Vault: no request is made)` };
  },
  async resolve(key, ctx: ResolveContext) {
    const k = parseVaultKey(key) as VaultKey;
    const ref = `vault:${key}`;
    const call = await login(await connect(ref, ctx.env), ctx);
    const data = await readData(call, k.path);
    const keys = Object.keys(data);
    let field = k.field;
    if (field === undefined) {
      if (keys.length !== 1) throw new ProviderError(`${ref}: the secret at "${k.path}" has ${keys.length} keys; name one with #FIELD (for example vault:${k.path}#token)`);
      field = keys[0]!;
    }
    if (!Object.prototype.hasOwnProperty.call(data, field)) throw new MissingSecret(`${ref}: the secret at "${k.path}" has no field "${field}"; add it, or check the name after "#"`);
    const v = data[field];
    const out = Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8');
    if (out.length > MAX_SECRET_BYTES) throw new ProviderError(`${ref} is more than 500 KiB; BuildKit accepts at most ${MAX_SECRET_BYTES} bytes (500 KiB) per secret`);
    return out;
  },
} satisfies SecretProvider;
