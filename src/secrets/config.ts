/**
 * secbuild.yml: named secrets, netrc/npmrc entries and templates.
 *
 *   secrets:
 *     gh_token: { from: env:GITHUB_TOKEN }
 *     npm_token: { from: "keychain:npm/ci", optional: true }
 *     pip_conf: { template: ./pip.conf.tmpl, env: PIP_CONFIG_FILE }   # ${name} placeholders name other secrets; env: for secbuild exec
 *     api_key: { from: "cmd:op read op://ci/api/key", mount: true, cache: content }
 *     deploy: { from: env:DEPLOY_KEY, cache: { content: true, scope: "${DEPLOY_ENV}" } }
 *   netrc:
 *     - { machine: github.com, login: x-access-token, password: gh_token, cache: scope:prod }
 *   npmrc:
 *     - { registry: "https://npm.pkg.github.com/", token: npm_token, scope: "@acme" }
 *   ssh:                                             # keys for RUN --mount=type=ssh (./ssh.ts)
 *     default: { from: keychain:deploy/github }
 *
 * A secret named only by templates is an input to them and is not handed to
 * docker on its own; every other secret is (and `mount: true` forces it).
 * `cache:` is the secret's cache policy (./cache-policy.ts); a netrc/npmrc file
 * takes it on any one of its entries.
 * Relative paths (file: references, template files) are relative to the config
 * file's directory. Errors name the file, the key path and what was expected.
 * The config file and each template are read up to 1 MiB (MAX_CONFIG_BYTES,
 * MAX_TEMPLATE_BYTES in ./limits.ts); a larger one, or a device such as
 * /dev/zero, is refused.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import { knownSchemes, looksLikeRef, parseRef, withIdentity } from '../../providers/index.js';
import { UsageError } from '../util/errors.js';
import { MAX_CONFIG_BYTES, MAX_TEMPLATE_BYTES, readAtMost, sizeText } from './limits.js';
import { TemplateError, templateNames } from './render.js';
import { configCachePolicy, samePolicy, type CachePolicy } from './cache-policy.js';
import { ENV_NAME } from '../args/exec.js';
import { parseSshSection } from './ssh.js';
import { showTyped } from '../util/shown.js';
import { checkId, checkScope, isMachineName, registryKey, type FieldValue, type NetrcEntry, type NpmrcEntry, type SecretSpec } from './spec.js';

export interface LoadedConfig {
  path: string;
  specs: SecretSpec[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseConfig(text: string, path: string, parse: (t: string) => unknown, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const bad = (keyPath: string, expected: string): never => {
    throw new UsageError(`${path}: ${keyPath}: expected ${expected}.`);
  };
  /** `{ cache }` from a `cache:` key, `{}` without one. */
  const cacheOf = (keyPath: string, raw: unknown): { cache?: CachePolicy } => {
    if (raw === undefined) return {};
    const p = configCachePolicy(raw, env);
    if (p && 'expected' in p) return bad(keyPath, p.expected);
    return p ? { cache: p } : {};
  };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`${path}: not valid YAML (${(err as Error).message.split('\n')[0]}).`);
  }
  if (doc === null || doc === undefined) return { path, specs: [] };
  if (!isObj(doc)) bad('(top level)', 'a mapping with secrets:, netrc: and npmrc:');
  const top = doc as Obj;
  for (const k of Object.keys(top)) {
    if (!['secrets', 'netrc', 'npmrc', 'ssh', 'version'].includes(k)) bad(k, 'one of secrets, netrc, npmrc, ssh, version (unknown key)');
  }
  const base = dirname(path);
  const specs: SecretSpec[] = [];
  const names = new Set<string>();
  /** Names declared with from: (the only kind a netrc/npmrc field can read). */
  const refNames = new Set<string>();
  const usedByTemplates = new Set<string>();

  const secrets = top.secrets ?? {};
  if (!isObj(secrets)) bad('secrets', 'a mapping of secret names to { from: REF } or { template: FILE }');
  for (const [name, raw] of Object.entries(secrets as Obj)) {
    const at = `secrets.${name}`;
    try {
      checkId(name, at);
    } catch {
      bad(at, name.length > 128 ? 'a name of at most 128 characters' : 'a name of letters, digits, ".", "_" and "-"');
    }
    const def: Obj = typeof raw === 'string' ? { from: raw } : isObj(raw) ? raw : bad(at, 'a reference string or { from: REF }');
    for (const k of Object.keys(def)) {
      if (!['from', 'template', 'optional', 'mount', 'description', 'cache', 'env', 'identity'].includes(k)) bad(`${at}.${k}`, 'one of from, template, optional, mount, description, cache, env, identity (unknown key)');
    }
    const cache = cacheOf(`${at}.cache`, def.cache);
    const optional = def.optional ?? false;
    if (typeof optional !== 'boolean') bad(`${at}.optional`, 'true or false');
    const mount = def.mount ?? true;
    if (typeof mount !== 'boolean') bad(`${at}.mount`, 'true or false');
    const origin = showTyped(`${path} ${at}`);
    if (def.from !== undefined && def.template !== undefined) bad(at, 'either from: or template:, not both');
    if (def.identity !== undefined && def.from === undefined) bad(`${at}.identity`, 'no identity: here, as it goes with from: age:FILE only');
    if (def.env !== undefined && def.template === undefined) bad(`${at}.env`, 'no env: here, as env: names the variable secbuild exec points at a template: file (a from: value goes into a variable with secbuild exec --env NAME=REF)');
    if (def.env !== undefined && (typeof def.env !== 'string' || !ENV_NAME.test(def.env))) bad(`${at}.env`, 'a variable name of letters, digits and "_", not starting with a digit');
    if (typeof def.from === 'string') {
      let ref;
      try {
        if (def.identity !== undefined && typeof def.identity !== 'string') bad(`${at}.identity`, 'a reference string (for example file:~/.config/age/key.txt)');
        ref = withIdentity(parseRef(def.from, base, `${path} ${at}.from`), def.identity as string | undefined, `${path} ${at}`);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      specs.push({ kind: 'ref', id: name, optional: optional as boolean, mount: mount as boolean, origin, ref, ...cache });
      refNames.add(name);
    } else if (typeof def.template === 'string') {
      const env = def.env as string | undefined;
      specs.push({ kind: 'template', id: name, optional: optional as boolean, mount: true, origin, path: resolvePath(base, def.template), ...cache, ...(env ? { env } : {}) });
    } else {
      bad(at, `from: SCHEME:KEY (${knownSchemes()}) or template: FILE`);
    }
    names.add(name);
  }

  const field = (keyPath: string, v: unknown, literal: boolean): FieldValue => {
    if (typeof v !== 'string' || v === '') return bad(keyPath, literal ? 'a string' : 'the name of a secret under secrets: or a reference such as env:TOKEN');
    if (looksLikeRef(v)) return { kind: 'ref', ref: parseRef(v, base, `${path} ${keyPath}`) };
    if (literal) return { kind: 'literal', text: v };
    // The text is named only once it is a declared name: a bare word that names nothing may be the credential itself.
    if (!names.has(v)) bad(keyPath, 'the name of a secret under secrets: (the value names none, and is not shown, as it may be the credential itself) or a reference such as env:TOKEN');
    if (!refNames.has(v)) bad(keyPath, `the name of a secret declared with from: (secret "${v}" is a template)`);
    usedByTemplates.add(v);
    return { kind: 'secret', name: v, at: showTyped(`${path} ${keyPath}`) };
  };

  const list = (key: 'netrc' | 'npmrc'): Obj[] => {
    const v = top[key];
    if (v === undefined) return [];
    if (!Array.isArray(v)) return bad(key, 'a list of entries');
    return v.map((e, i) => (isObj(e) ? e : bad(`${key}[${i}]`, 'a mapping')));
  };

  // A netrc/npmrc file is a secret too: its id must be valid and not taken by
  // secrets: or by the other kind of file.
  const fileIds = new Map<string, string>();
  const fileId = (keyPath: string, v: unknown, fallback: 'netrc' | 'npmrc'): string => {
    const id = v === undefined ? fallback : typeof v === 'string' ? v : bad(keyPath, 'a string');
    try {
      checkId(id, keyPath);
    } catch {
      bad(keyPath, id.length > 128 ? 'a secret id of at most 128 characters' : 'a secret id of letters, digits, ".", "_" and "-"');
    }
    if (names.has(id)) bad(keyPath, `an id not used under secrets: (secrets.${id} is declared; set a different id)`);
    const other = fileIds.get(id);
    if (other !== undefined && other !== fallback) bad(keyPath, `an id not used by the ${other} entries ("${id}" is; set a different id)`);
    fileIds.set(id, fallback);
    return id;
  };

  // One cache policy per file, given on any of its entries.
  const fileCache = new Map<string, CachePolicy>();
  const entryCache = (keyPath: string, id: string, raw: unknown): void => {
    const { cache } = cacheOf(keyPath, raw);
    if (raw === undefined) return;
    if (fileCache.has(id) && !samePolicy(fileCache.get(id), cache)) bad(keyPath, `the same cache policy as the other entries of "${id}" (one file has one policy)`);
    if (cache) fileCache.set(id, cache);
  };
  const netrc = new Map<string, NetrcEntry[]>();
  list('netrc').forEach((e, i) => {
    const at = `netrc[${i}]`;
    for (const k of Object.keys(e)) if (!['machine', 'login', 'password', 'id', 'cache'].includes(k)) bad(`${at}.${k}`, 'one of machine, login, password, id, cache (unknown key)');
    if (typeof e.machine !== 'string' || !isMachineName(e.machine)) bad(`${at}.machine`, 'a host name (no spaces, "#", \'"\' or "\\")');
    const id = fileId(`${at}.id`, e.id, 'netrc');
    entryCache(`${at}.cache`, id, e.cache);
    const entry: NetrcEntry = {
      machine: e.machine as string,
      login: field(`${at}.login`, e.login, true),
      password: field(`${at}.password`, e.password, false),
    };
    netrc.set(id, [...(netrc.get(id) ?? []), entry]);
  });
  const npmrc = new Map<string, NpmrcEntry[]>();
  list('npmrc').forEach((e, i) => {
    const at = `npmrc[${i}]`;
    for (const k of Object.keys(e)) if (!['registry', 'token', 'scope', 'id', 'cache'].includes(k)) bad(`${at}.${k}`, 'one of registry, token, scope, id, cache (unknown key)');
    if (typeof e.registry !== 'string') bad(`${at}.registry`, 'a registry URL such as https://npm.example.com/');
    try {
      registryKey(`${path} ${at}.registry`, e.registry as string);
      checkScope(`${path} ${at}.scope`, e.scope as string | undefined);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const id = fileId(`${at}.id`, e.id, 'npmrc');
    entryCache(`${at}.cache`, id, e.cache);
    const entry: NpmrcEntry = { registry: e.registry as string, token: field(`${at}.token`, e.token, false), scope: e.scope as string | undefined };
    npmrc.set(id, [...(npmrc.get(id) ?? []), entry]);
  });
  const policy = (id: string) => (fileCache.has(id) ? { cache: fileCache.get(id)! } : {});
  for (const [id, entries] of netrc) specs.push({ kind: 'netrc', id, entries, optional: false, mount: true, origin: showTyped(`${path} netrc`), ...policy(id) });
  for (const [id, entries] of npmrc) specs.push({ kind: 'npmrc', id, entries, optional: false, mount: true, origin: showTyped(`${path} npmrc`), ...policy(id) });

  unmountTemplateInputs(specs, usedByTemplates, secrets as Obj);
  specs.push(...parseSshSection(top.ssh, path, base));
  return { path, specs };
}

/** Names used as template inputs are not handed to docker unless `mount: true` is explicit. */
function unmountTemplateInputs(specs: SecretSpec[], inputs: ReadonlySet<string>, defs: Obj): void {
  for (const spec of specs) {
    if (spec.kind !== 'ref' || !inputs.has(spec.id)) continue;
    const def = defs[spec.id];
    spec.mount = isObj(def) && def.mount === true;
  }
}

/**
 * Reads a file of foreign text with a stated limit (`what` names it in the
 * error): at most `max` + 1 bytes are read. undefined when it does not exist;
 * any other failure, or a file over the limit, is a UsageError (exit 2).
 */
async function readLimited(path: string, max: number, what: string, where: string, fix: string): Promise<string | undefined> {
  let read;
  try {
    read = await readAtMost(path, max);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'ENOENT') return undefined;
    throw new UsageError(`${where}cannot read ${path} (${code}); ${fix}.`);
  }
  if (read.over) throw new UsageError(`${where}${path} is larger than ${sizeText(max)}, the limit for ${what}; check the path.`);
  return read.bytes.toString('utf8');
}

/**
 * Reads every `template:` file once (kept on the spec) and applies the
 * template-input rule to the names its `${name}` placeholders use.
 */
async function readTemplates(config: LoadedConfig, defs: Obj): Promise<void> {
  const inputs = new Set<string>();
  for (const spec of config.specs) {
    if (spec.kind !== 'template') continue;
    const where = `${config.path}: secrets.${spec.id}.template: `;
    const fix = 'check the path (relative to the config file)';
    const text = await readLimited(spec.path, MAX_TEMPLATE_BYTES, 'a template', where, fix);
    if (text === undefined) throw new UsageError(`${where}cannot read ${spec.path} (ENOENT); ${fix}.`);
    spec.text = text;
    let names: Map<string, number>;
    try {
      names = templateNames(text);
    } catch (err) {
      if (err instanceof TemplateError) throw new UsageError(`${spec.path}:${err.line}: ${err.reason}.`);
      throw new UsageError(`${spec.path}: ${(err as Error).message}.`);
    }
    for (const name of names.keys()) inputs.add(name);
  }
  unmountTemplateInputs(config.specs, inputs, defs);
}

/** Loads `--config PATH`, else ./secbuild.yml (or .yaml) when present. */
export async function loadConfig(explicit: string | undefined, cwd: string): Promise<LoadedConfig | undefined> {
  const candidates = explicit ? [resolvePath(cwd, explicit)] : ['secbuild.yml', 'secbuild.yaml'].map((n) => resolvePath(cwd, n));
  for (const path of candidates) {
    const flag = explicit ? `--config ${explicit}: ` : '';
    const text = await readLimited(path, MAX_CONFIG_BYTES, 'a config file', flag, 'check the path');
    if (text === undefined && !explicit) continue;
    if (text === undefined) throw new UsageError(`${flag}cannot read ${path} (ENOENT); check the path.`);
    // CommonJS module: named exports under Node, `default` once bundled by esbuild.
    const yaml = (await import('yaml')) as typeof import('yaml') & { default?: typeof import('yaml') };
    const parse = yaml.parse ?? yaml.default!.parse;
    let defs: Obj = {};
    const config = parseConfig(text, path, (t) => {
      const doc = parse(t) as unknown;
      if (isObj(doc) && isObj(doc.secrets)) defs = doc.secrets;
      return doc;
    });
    await readTemplates(config, defs);
    return config;
  }
  return undefined;
}
