/**
 * Finding, reading, interpolating and merging a project's compose files, as
 * Compose v2 does (compose-spec/compose-go cli/options.go, loader/):
 *
 * - files: every `-f`, else `COMPOSE_FILE` (split at `COMPOSE_PATH_SEPARATOR`,
 *   default `:`), else the first of compose.yaml, compose.yml,
 *   docker-compose.yml, docker-compose.yaml in the project directory (or the
 *   working directory, then its parents) plus the first of compose.override.yml,
 *   compose.override.yaml, docker-compose.override.yml, docker-compose.override.yaml
 *   next to it;
 * - project directory: `--project-directory`, else the first file's directory;
 *   every relative path in every file is relative to it;
 * - variables: the process environment, then `--env-file` files (else `.env` in
 *   the project directory); the process environment wins;
 * - each file is interpolated on its own, then merged onto the previous ones;
 * - project name: `-p`, `COMPOSE_PROJECT_NAME`, the last `name:`, else the
 *   project directory's name, normalised (lower case, [a-z0-9_-], no leading - or _).
 *
 * YAML is parsed with the `yaml` package, loaded lazily.
 */
import { existsSync, statSync } from 'node:fs';
import { MAX_CONFIG_BYTES, sizeText } from '../../secrets/limits.js';
import { isTooLarge, readBounded } from '../../util/read.js';
import { basename, dirname, isAbsolute, relative, resolve as resolvePath } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { info, warn } from '../../util/log.js';
import { interpolate, InterpolationError, parseDotenv } from './interpolate.js';
import { applyOwnResets, isObj, mergeValue, pathKey, type Tags } from './merge.js';

export const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'] as const;
export const OVERRIDE_FILES = ['compose.override.yml', 'compose.override.yaml', 'docker-compose.override.yml', 'docker-compose.override.yaml'] as const;

export interface ProjectOptions {
  files: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles: string[];
}

export interface Project {
  name: string;
  /** Absolute directory every relative path is resolved against. */
  dir: string;
  /** The compose files read, absolute, in merge order. */
  files: string[];
  /** The same, as shown in messages (relative to the working directory when inside it). */
  shownFiles: string[];
  /** Where the file list came from, for --dry-run. */
  filesFrom: string;
  /** The merged, interpolated model. */
  model: Record<string, unknown>;
  /** Variables for interpolation and build-args: the process environment over the env files. */
  env: NodeJS.ProcessEnv;
  /** Which files mention `services.NAME` (shown relative to the working directory). */
  serviceFiles: Map<string, string[]>;
  /** Variables each value under `services.NAME.…` was interpolated from, by key path. */
  usedVars: Map<string, { file: string; vars: string[] }>;
}

/** compose-go loader.NormalizeProjectName. */
export function normalizeProjectName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

export function shown(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** The default file (and override file) in `dir` or the nearest parent that has one. */
export function findDefaultFiles(dir: string, exists: (p: string) => boolean = existsSync): string[] {
  for (let d = dir; ; d = dirname(d)) {
    const found = DEFAULT_FILES.map((n) => resolvePath(d, n)).filter(exists);
    if (found.length > 0) {
      if (found.length > 1) warn(`found ${found.map((f) => basename(f)).join(', ')} in ${d}; using ${basename(found[0]!)}, as Compose does.`);
      const override = OVERRIDE_FILES.map((n) => resolvePath(d, n)).find(exists);
      return override ? [found[0]!, override] : [found[0]!];
    }
    if (dirname(d) === d) return [];
  }
}

async function readEnvFiles(opts: ProjectOptions, cwd: string, env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const explicit = opts.envFiles.length > 0;
  const baseDir = opts.projectDirectory ? resolvePath(cwd, opts.projectDirectory) : opts.files[0] ? dirname(resolvePath(cwd, opts.files[0])) : cwd;
  const disabled = /^(1|t|true)$/i.test(env.COMPOSE_DISABLE_ENV_FILE ?? '');
  const paths = explicit ? opts.envFiles.map((f) => resolvePath(cwd, f)) : disabled ? [] : [resolvePath(baseDir, '.env')];
  const fromFiles = new Map<string, string>();
  for (const path of paths) {
    let text: string;
    try {
      if (!explicit && (!existsSync(path) || statSync(path).isDirectory())) continue;
      text = (await readBounded(path, MAX_CONFIG_BYTES)).toString('utf8');
    } catch (err) {
      if (isTooLarge(err)) throw new UsageError(`--env-file ${shown(path, cwd)} is larger than ${sizeText(MAX_CONFIG_BYTES)}; check the path.`);
      throw new UsageError(`--env-file ${shown(path, cwd)}: cannot read it (${(err as NodeJS.ErrnoException).code}); check the path.`);
    }
    try {
      for (const [k, v] of parseDotenv(text, (n) => env[n] ?? fromFiles.get(n))) fromFiles.set(k, v);
    } catch (err) {
      if (err instanceof InterpolationError) throw new UsageError(`${shown(path, cwd)}: ${err.message}; fix the line (write $$ for a literal $).`);
      throw err;
    }
  }
  return { ...Object.fromEntries(fromFiles), ...env };
}

type YamlModule = typeof import('yaml');

async function loadYaml(): Promise<YamlModule> {
  // CommonJS module: named exports under Node, `default` once bundled by esbuild.
  const mod = (await import('yaml')) as Partial<YamlModule> & { default?: YamlModule };
  return (mod.parseDocument ? mod : mod.default!) as YamlModule;
}

/** Parses one file; returns its value and the key paths tagged !reset / !override. */
function parseFile(Y: YamlModule, text: string, file: string): { value: unknown; tags: Map<string, 'reset' | 'override'> } {
  const doc = Y.parseDocument(text, { merge: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const at = `:${text.slice(0, e.pos[0]).split('\n').length}`;
    throw new UsageError(`${file}${at}: not valid YAML (${e.message.split('\n')[0]}); fix the file.`);
  }
  const tags = new Map<string, 'reset' | 'override'>();
  Y.visit(doc, {
    Node(_key, node, path) {
      const tag = (node as { tag?: string }).tag;
      if (tag !== '!reset' && tag !== '!override') return;
      const chain = [...path, node];
      const keys: string[] = [];
      for (let i = 1; i < chain.length; i++) {
        const parent = chain[i - 1]!;
        const child = chain[i];
        if (Y.isPair(parent) && parent.value === child) keys.push(String(Y.isScalar(parent.key) ? parent.key.value : parent.key));
        else if (Y.isSeq(parent)) keys.push(String(parent.items.indexOf(child as never)));
      }
      tags.set(pathKey(keys), tag === '!reset' ? 'reset' : 'override');
    },
  });
  return { value: doc.toJS({ maxAliasCount: 1000 }), tags };
}

/** Interpolates every string value (never a key); records the variables read under services.*. */
function interpolateTree(
  value: unknown,
  path: string[],
  ctx: { file: string; lookup: (n: string) => string | undefined; used: Project['usedVars']; unset: Set<string> },
): unknown {
  if (typeof value === 'string') {
    let r;
    try {
      r = interpolate(value, ctx.lookup);
    } catch (err) {
      if (err instanceof InterpolationError) throw new UsageError(`${ctx.file}: ${path.join('.')}: ${err.message}; set the variable, or write $$ for a literal $.`);
      throw err;
    }
    r.unset.forEach((v) => ctx.unset.add(v));
    if (r.used.length > 0 && path[0] === 'services') ctx.used.set(path.join('.'), { file: ctx.file, vars: r.used });
    return r.value;
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, [...path, String(i)], ctx));
  if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateTree(v, [...path, k], ctx)]));
  return value;
}

export async function loadProject(opts: ProjectOptions, cwd: string, processEnv: NodeJS.ProcessEnv): Promise<Project> {
  const env = await readEnvFiles(opts, cwd, processEnv);
  let files: string[];
  let filesFrom: string;
  if (opts.files.length > 0) {
    if (opts.files.includes('-')) throw new UsageError('-f -: a compose file from stdin is not supported by secbuild; write it to a file and pass -f FILE.');
    files = opts.files.map((f) => resolvePath(cwd, f));
    filesFrom = '-f';
  } else if (env.COMPOSE_FILE) {
    files = env.COMPOSE_FILE.split(env.COMPOSE_PATH_SEPARATOR || ':').filter(Boolean).map((f) => resolvePath(cwd, f));
    filesFrom = 'COMPOSE_FILE';
  } else {
    const start = opts.projectDirectory ? resolvePath(cwd, opts.projectDirectory) : cwd;
    files = findDefaultFiles(start);
    filesFrom = 'the default file names';
    if (files.length === 0) {
      throw new UsageError(`no compose file in ${start} or its parents (looked for ${DEFAULT_FILES.join(', ')}); pass -f FILE.`);
    }
  }
  const dir = opts.projectDirectory ? resolvePath(cwd, opts.projectDirectory) : dirname(files[0]!);

  const Y = await loadYaml();
  const lookup = (n: string) => env[n];
  const usedVars: Project['usedVars'] = new Map();
  const serviceFiles = new Map<string, string[]>();
  const unset = new Set<string>();
  let model: unknown = {};
  for (const [i, file] of files.entries()) {
    const name = shown(file, cwd);
    let text: string;
    try {
      text = (await readBounded(file, MAX_CONFIG_BYTES)).toString('utf8');
    } catch (err) {
      if (isTooLarge(err)) throw new UsageError(`compose file ${name} is larger than ${sizeText(MAX_CONFIG_BYTES)}; check -f / COMPOSE_FILE.`);
      throw new UsageError(`compose file ${name} cannot be read (${(err as NodeJS.ErrnoException).code}); check -f / COMPOSE_FILE.`);
    }
    const parsed = parseFile(Y, text, name);
    if (parsed.value === null || parsed.value === undefined) continue;
    if (!isObj(parsed.value)) throw new UsageError(`${name}: the top level must be a mapping (services:, secrets:, …).`);
    const value = interpolateTree(parsed.value, [], { file: name, lookup, used: usedVars, unset }) as Record<string, unknown>;
    if (isObj(value.services)) for (const s of Object.keys(value.services)) serviceFiles.set(s, [...(serviceFiles.get(s) ?? []), name]);
    model = i === 0 ? applyOwnResets(value, parsed.tags as Tags) : mergeValue(model, value, [], parsed.tags);
  }
  for (const v of unset) warn(`the "${v}" variable is not set; Compose uses an empty string for it.`);

  const merged = model as Record<string, unknown>;
  const name = projectName(opts, env, merged, dir);
  if (filesFrom !== '-f') info(`compose files (from ${filesFrom}): ${files.map((f) => shown(f, cwd)).join(', ')}`);
  return { name, dir, files, shownFiles: files.map((f) => shown(f, cwd)), filesFrom, model: merged, env, serviceFiles, usedVars };
}

function projectName(opts: ProjectOptions, env: NodeJS.ProcessEnv, model: Record<string, unknown>, dir: string): string {
  const invalid = (where: string, n: string): never => {
    throw new UsageError(`${where} "${n}" is not a valid project name: use lower-case letters, digits, "-" and "_", starting with a letter or digit (for example "${normalizeProjectName(n) || 'myapp'}").`);
  };
  if (opts.projectName !== undefined) return normalizeProjectName(opts.projectName) === opts.projectName && opts.projectName ? opts.projectName : invalid('-p', opts.projectName);
  const fromEnv = env.COMPOSE_PROJECT_NAME;
  if (fromEnv) return normalizeProjectName(fromEnv) === fromEnv ? fromEnv : invalid('COMPOSE_PROJECT_NAME', fromEnv);
  const fromFile = typeof model.name === 'string' ? normalizeProjectName(model.name) : '';
  if (fromFile) return fromFile;
  const fromDir = normalizeProjectName(basename(dir));
  if (!fromDir) throw new UsageError(`the project directory ${dir} gives no valid project name; pass -p NAME or set name: in the compose file.`);
  return fromDir;
}
