/**
 * What the user asked for, before anything is resolved: secret specs from
 * `--secret`, `--netrc`, `--npmrc` and secbuild.yml. Pure parsing, no I/O
 * (except the bare `id=ID` form, which looks at the environment as buildx does).
 */
import { looksLikeRef, parseRef, withIdentity, type Ref } from '../../providers/index.js';
import { parseKeyValues } from './csv.js';
import { closest } from '../args/suggest.js';
import { UsageError } from '../util/errors.js';
import { parseCachePolicy, samePolicy, type CachePolicy } from './cache-policy.js';
import { ownerFields, type Ownership } from './ownership.js';
import { flagAt, shown, showTyped, type Shown } from '../util/shown.js';

/** A field of a credential template: a literal, a reference, or the name of another secret. */
export type FieldValue =
  | { kind: 'literal'; text: string }
  | { kind: 'ref'; ref: Ref }
  | { kind: 'secret'; name: string; /** Where it was typed (`--npmrc #1 token=`): the name is shown only once it is known to be a declared id. */ at: Shown };

export interface NetrcEntry {
  machine: string;
  login: FieldValue;
  password: FieldValue;
}

export interface NpmrcEntry {
  registry: string;
  token: FieldValue;
  scope?: string;
}

interface SpecBase {
  id: string;
  optional: boolean;
  /** Where it was declared: `--secret id=x`, `--netrc`, `secbuild.yml secrets.x`… for messages (never the flag's whole value). */
  origin: Shown;
  /**
   * false for a named config secret that only feeds templates: it is resolved but
   * not handed to docker by itself (set `mount: true` to hand it over as well).
   */
  mount: boolean;
  /** The cache policy (`cache=`); absent = stable, BuildKit's own behaviour. See ./cache-policy.ts. */
  cache?: CachePolicy;
  /** `secbuild run`'s `uid=`, `gid=`, `mode=` for the file a container reads (unset: the invoking user's, 0600). See ./ownership.ts. */
  owner?: Partial<Ownership>;
}

export type SecretSpec =
  | (SpecBase & {
      kind: 'ref';
      ref: Ref;
      /** docker-compatible description, e.g. src=./tok */
      label?: string;
      /** An SSH key for the agent of this ssh id (./ssh.ts); never mounted as a file. */
      ssh?: string;
    })
  | (SpecBase & { kind: 'netrc'; entries: NetrcEntry[] })
  | (SpecBase & { kind: 'npmrc'; entries: NpmrcEntry[] })
  | (SpecBase & { kind: 'template'; path: string; text?: string; /** secbuild exec: the variable that names the rendered file (`env: PIP_CONFIG_FILE`). */ env?: string });

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkId(id: string, where: string): string {
  // An id names a file of the run directory (`NN-ID`, within NAME_MAX) and /run/secrets/ID in the build.
  const maxLength = 128;
  if (id.length > maxLength) {
    throw new UsageError(`${where}: the secret id is ${id.length} characters long; use an id of at most ${maxLength} characters.`);
  }
  if (!ID.test(id)) {
    throw new UsageError(`${where}: secret id "${showTyped(id)}" must start with a letter or digit and use only letters, digits, ".", "_" and "-".`);
  }
  return id;
}

function fail(where: string, message: string): never {
  throw new UsageError(`${where}: ${message}`);
}

/**
 * A flag's `key=value` fields. Errors name keys only, never the value: any
 * field may hold a credential (a literal password, a token typed where a
 * reference belongs).
 */
function pairs(flag: string, value: string, bare: readonly string[] = []): Map<string, string> {
  let list: Array<[string, string]>;
  try {
    list = parseKeyValues(value, bare);
  } catch (err) {
    // The reason names no field's text (csv.ts).
    fail(flag, `${(err as Error).message}; the value is not shown, as it may hold a credential.`);
  }
  const map = new Map<string, string>();
  for (const [k, v] of list) {
    if (map.has(k)) fail(flag, `"${showTyped(k)}" is given twice.`);
    map.set(k, v);
  }
  return map;
}

/** `{ cache }` for a `cache=` value, `{}` without one (stable). */
function cachePolicyOf(flag: string, id: string, value: string | undefined): { cache?: CachePolicy } {
  if (value === undefined) return {};
  try {
    return { cache: parseCachePolicy(value) };
  } catch (err) {
    fail(flag, `id=${id}: ${(err as Error).message}`);
  }
}

function only(flag: string, map: Map<string, string>, allowed: readonly string[]): void {
  for (const k of map.keys()) {
    if (allowed.includes(k)) continue;
    const near = closest(k, allowed);
    fail(flag, `unknown key "${showTyped(k)}"; ${near ? `did you mean ${near}=? Expected` : 'expected'} ${allowed.join(', ')}.`);
  }
}

function isTrue(flag: string, key: string, v: string | undefined): boolean {
  if (v === undefined) return false;
  if (/^(true|1|yes)$/i.test(v)) return true;
  if (/^(false|0|no)$/i.test(v)) return false;
  fail(flag, `${key}= must be true or false.`);
}

/**
 * `--secret` in docker's forms (`id=ID,src=PATH`, `source=`, `env=VAR`,
 * `type=file|env`, bare `id=ID`) and secbuild's `id=ID,from=REF`, each with an
 * optional `optional` word. Mirrors docker/buildx util/buildflags/secrets.go and
 * moby/buildkit session/secrets/secretsprovider/store.go (bare id: the env var
 * named ID when it is set, else the file named ID).
 */
export function parseSecretFlag(value: string, env: NodeJS.ProcessEnv, cwd: string, index?: number, opts: { ownership?: boolean } = {}): SecretSpec {
  const at = flagAt('--secret', index);
  const map = pairs(at, value, ['optional']);
  only(at, map, ['id', 'src', 'source', 'env', 'type', 'from', 'optional', 'cache', 'identity', 'uid', 'gid', 'mode']);
  const id = map.get('id');
  if (!id) fail(at, `has no id=; write --secret id=NAME,from=env:VAR (or docker's id=NAME,src=PATH).`);
  checkId(id, at);
  const flag = shown`--secret id=${showTyped(id)}`;
  // Set only once the value parsed: every field is then a name, a reference or a path, shown through showTyped.
  const origin = showTyped(`--secret ${value}`);
  const optional = isTrue('--secret', 'optional', map.get('optional'));
  const fields = { ...cachePolicyOf('--secret', id, map.get('cache')), ...ownerFields(map, flag, showTyped(id), opts.ownership === true) };
  const type = map.get('type');
  if (type !== undefined && type !== 'file' && type !== 'env') fail(flag, `type= must be file or env.`);
  if (map.has('src') && map.has('source')) fail('--secret', `id=${id}: src= and source= are the same key; give one.`);
  let src = map.get('src') ?? map.get('source');
  let envName = map.get('env');
  const from = map.get('from');
  if (from !== undefined) {
    if (src !== undefined || envName !== undefined || type !== undefined) {
      fail('--secret', `id=${id}: from= cannot be combined with src=, env= or type=.`);
    }
    return { kind: 'ref', id, optional, origin, mount: true, ...fields, ref: withIdentity(parseRef(from, cwd, `${flag} from=`), map.get('identity'), `${flag}`) };
  }
  if (map.has('identity')) fail(flag, 'identity= goes with from=age:FILE only.');
  if (type === 'env' && envName === undefined) {
    envName = src;
    src = undefined;
  }
  if (src !== undefined && envName !== undefined) fail('--secret', `id=${id}: give either src= or env=, not both.`);
  const bare = src === undefined && envName === undefined;
  if (bare) {
    // buildx: the environment variable named ID if set, else the file named ID.
    // buildx ignores type=file here too: the env var wins whenever it is set.
    if (env[id] === undefined) src = id;
    else envName = id;
  }
  if (envName !== undefined) {
    return { kind: 'ref', id, optional, origin, mount: true, ...fields, ref: parseRef(`env:${envName}`, cwd, `${flag} ${map.has('env') ? 'env=' : 'src='}`), label: `env=${envName}` };
  }
  return { kind: 'ref', id, optional, origin, mount: true, ...fields, ref: { scheme: 'file', key: src!, baseDir: cwd }, label: bare ? `id=${id}` : `src=${src}` };
}

/**
 * A template field given on the command line: a reference, or the id of
 * another --secret (checked when the specs are resolved; until then the name
 * is not shown, as a bare word here is often the credential itself).
 */
function cliField(flag: Shown, key: string, text: string, cwd: string, literalUnlessRef: boolean): FieldValue {
  const at = shown`${flag} ${key as Shown}=`;
  if (looksLikeRef(text)) return { kind: 'ref', ref: parseRef(text, cwd, at) };
  if (literalUnlessRef) return { kind: 'literal', text };
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(text)) return { kind: 'secret', name: text, at };
  fail(flag, `${key}= is not a reference such as env:TOKEN nor the id of another secret (not shown, as it may be the credential itself).`);
}

/**
 * A .netrc `machine` value: one token that every reader takes as it is (no
 * whitespace or control character, no `#`, `"` or `\`; see render.ts).
 */
export function isMachineName(host: string): boolean {
  return /^[^\s\x00-\x1f\x7f#"\\]+$/.test(host);
}

function machineName(flag: string, host: string): string {
  if (!isMachineName(host)) fail(flag, `machine= must be a host name without spaces, "#", '"' or "\\" (not shown).`);
  return host;
}

export function parseNetrcFlag(value: string, cwd: string, index?: number): { id: string; entry: NetrcEntry; cache?: CachePolicy } {
  const at = flagAt('--netrc', index);
  const map = pairs(at, value);
  only('--netrc', map, ['machine', 'login', 'password', 'id', 'cache']);
  for (const k of ['machine', 'login', 'password']) {
    if (!map.get(k)) fail('--netrc', `needs ${k}=; write --netrc machine=HOST,login=LOGIN,password=env:TOKEN.`);
  }
  const id = checkId(map.get('id') ?? 'netrc', '--netrc');
  return {
    id,
    ...cachePolicyOf('--netrc', id, map.get('cache')),
    entry: {
      machine: machineName(at, map.get('machine')!),
      login: cliField(at, 'login', map.get('login')!, cwd, true),
      password: cliField(at, 'password', map.get('password')!, cwd, false),
    },
  };
}

/** Whitespace or a control character (C0, DEL, C1): nothing in an .npmrc key or a one-line field may hold one. */
const CONTROL_OR_SPACE = /[\s\x00-\x1f\x7f-\x9f]/;

/**
 * The `.npmrc` key for a registry: `//host/path/`. The URL must be one line
 * with no spaces: WHATWG URL parsing silently drops tabs and line breaks, but
 * the registry is also written as the value of the `@scope:registry=` line,
 * where a line break would start a line of the writer's choosing.
 */
export function registryKey(flag: string, registry: string): string {
  if (CONTROL_OR_SPACE.test(registry)) {
    // Not echoed: what follows a line break may be anything, a token included.
    fail(flag, `the registry URL contains a line break, a space or another control character; write it on one line, such as registry=https://npm.example.com/.`);
  }
  // A URL with userinfo (`https://user:TOKEN@host/`) is never echoed.
  const shown = registry.includes('@') ? 'the registry URL' : `registry="${showTyped(registry)}"`;
  let url: URL;
  try {
    url = new URL(registry);
  } catch {
    fail(flag, `${shown} is not a URL; write registry=https://npm.example.com/.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail(flag, `${shown} must be an http(s) URL.`);
  if (url.username || url.password) fail(flag, `the registry URL for ${url.host} must not contain credentials; pass the token with token=.`);
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const key = `//${url.host}${path}`;
  // npm's ini parser ends a key at "=" and cuts it at ";" or "#"; npm replaces
  // "${VAR}" in keys with the environment (@npmcli/config lib/env-replace.js).
  const bad = ['=', ';', '#', '\\', '"', '${'].find((c) => key.includes(c));
  if (bad) fail(flag, `${shown} has "${bad}" in its host or path, which an .npmrc key cannot hold; use the registry's plain URL.`);
  return key;
}

export function checkScope(flag: string, scope: string | undefined): string | undefined {
  if (scope === undefined) return undefined;
  if (typeof scope === 'string' && CONTROL_OR_SPACE.test(scope)) {
    fail(flag, `the scope contains a line break, a space or another control character; write it as scope=@my-org.`);
  }
  if (!/^@[a-z0-9][a-z0-9._-]*$/i.test(scope)) fail(flag, `scope="${showTyped(String(scope))}" must look like @my-org.`);
  return scope;
}

export function parseNpmrcFlag(value: string, cwd: string, index?: number): { id: string; entry: NpmrcEntry; cache?: CachePolicy } {
  const at = flagAt('--npmrc', index);
  const map = pairs(at, value);
  only('--npmrc', map, ['registry', 'token', 'scope', 'id', 'cache']);
  for (const k of ['registry', 'token']) {
    if (!map.get(k)) fail('--npmrc', `needs ${k}=; write --npmrc registry=https://npm.example.com/,token=env:NPM_TOKEN.`);
  }
  const registry = map.get('registry')!;
  registryKey('--npmrc', registry);
  const id = checkId(map.get('id') ?? 'npmrc', '--npmrc');
  return {
    id,
    ...cachePolicyOf('--npmrc', id, map.get('cache')),
    entry: {
      registry,
      token: cliField(at, 'token', map.get('token')!, cwd, false),
      scope: checkScope('--npmrc', map.get('scope')),
    },
  };
}

/**
 * Groups repeated --netrc/--npmrc entries by id into one spec each. The file's
 * cache policy is given on any one of its entries; two different ones are refused.
 */
export function groupEntries<E>(kind: 'netrc' | 'npmrc', items: Array<{ id: string; entry: E; cache?: CachePolicy }>): SecretSpec[] {
  const byId = new Map<string, { entries: E[]; cache?: CachePolicy }>();
  for (const { id, entry, cache } of items) {
    const group = byId.get(id) ?? { entries: [] };
    group.entries.push(entry);
    if (cache) {
      if (group.cache && !samePolicy(group.cache, cache)) fail(`--${kind}`, `id=${id}: its entries give different cache= policies; give the policy once (one file has one).`);
      group.cache = cache;
    }
    byId.set(id, group);
  }
  return [...byId].map(([id, g]) => ({ kind, id, entries: g.entries, optional: false, mount: true, origin: shown`--${kind as Shown}`, ...(g.cache ? { cache: g.cache } : {}) }) as SecretSpec);
}
