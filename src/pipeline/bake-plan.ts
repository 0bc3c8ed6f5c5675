/**
 * The plan of `secbuild bake`: the targets `docker buildx bake --print`
 * resolves, remembered between runs so a repeated bake does not pay a second
 * bake invocation (~180 ms) before the real one.
 *
 * The plan is cached under everything `bake --print` reads, and any change
 * to one of them is a miss:
 *   - the bytes of every bake file (each `-f`, else every default file present
 *     in the working directory: buildx 0.13 bake/bake.go defaultFilenames);
 *   - the value (or absence) of every variable of the child environment whose
 *     name occurs anywhere in those files (an HCL `variable` block reads the
 *     variable of its name; JSON files name theirs too), and of every
 *     BUILDX_*, BAKE_*, BUILDKIT_*, DOCKER_* and COMPOSE_* variable and
 *     SOURCE_DATE_EPOCH;
 *   - the working directory's `.env`, when there is one;
 *   - every bake option (-f, --set, --load, --builder, …) and target, the
 *     working directory, and the docker binary and buildx plugin (path, size,
 *     mtime).
 * Not cached at all (bake is asked every time): a compose or other non-HCL,
 * non-JSON file among the inputs (compose reads `.env`, `env_file`,
 * `extends` and `include` files), a file that is not a regular file, bake
 * files over 256 KiB in all, `-f -`, a remote definition (a target that is not a plain
 * name), or an HCL function whose answer changes by itself (timestamp(),
 * uuid…, bcrypt(), homedir()).
 *
 * The bake files' text is kept in the entry and compared exactly; the rest
 * is a SHA-256 (./planKey) over, among others, the child environment's values: that
 * environment is scrubbed of every variable a secbuild secret comes from
 * (src/run/env.ts), so no secret of the run enters the digest. The entry is
 * written only after the preflight and the build-arg guard passed (beforeRun),
 * and read and written only through the trusted-state reader (src/run/cache.ts).
 */
import { lstatSync, readFileSync, statSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import type { BakeArgs } from '../args/bake.js';
import { bakePrintArgv, parseBakePrint, type BakeTarget } from '../engines/docker/bake.js';
import { carriedSecret } from '../guards/build-args.js';
import { readCache, writeCache } from '../run/cache.js';
import type { ChildEnv } from '../run/env.js';
import { capture } from '../run/exec.js';
import { printableArgv } from '../run/printable.js';
import type { Secret } from '../secrets/secret.js';
import { sha256 } from '../util/hmac.js';
import { UsageError } from '../util/errors.js';
import { hideCredentials, showTyped } from '../util/shown.js';
import { debug } from '../util/log.js';
import { isTooLarge, readRegularSync } from '../util/read.js';

/** Bumped when what is cached or how it is keyed changes. */
const VERSION = 'bake-plan-2';
/** Plans kept per working directory (one per distinct key: target lists, --set, variables). */
const KEEP = 8;
/** Bake files larger than this in all are not cached (their text is kept in the entry). */
const MAX_FILES = 256 * 1024;

/** buildx 0.13 bake/bake.go defaultFilenames, and compose's own default and override names. */
export const DEFAULT_BAKE_FILES = [
  'compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml',
  'compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml',
  'docker-bake.json', 'docker-bake.override.json', 'docker-bake.hcl', 'docker-bake.override.hcl',
];
const VAR_PREFIXES = ['BUILDX_', 'BAKE_', 'BUILDKIT_', 'DOCKER_', 'COMPOSE_'];
const IMPURE = /\b(?:timestamp|uuid\w*|bcrypt|homedir)\s*\(/;
const PLAIN_TARGET = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const PLUGIN_DIRS = ['/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins'];

export interface BakePlan {
  targets: BakeTarget[];
  /** The `bake --print` command, as shown in messages (credential-looking words hidden: src/util/shown.ts). */
  shown: string;
  /** Whether the targets came from the cache. */
  cached: boolean;
  /**
   * Remembers the plan (a no-op when it came from the cache or cannot be cached); call once the checks
   * passed. Not when its text carries a form of one of `values` (a build-arg let through by
   * --allow-secret-build-arg, a bake file holding a value): the cache holds no value.
   */
  save(values: readonly Secret[]): void;
}

function statKey(path: string): string {
  try {
    const st = statSync(path);
    return `${st.size}.${st.mtimeMs}`;
  } catch {
    return '-';
  }
}

/**
 * What a cached plan must match: `files`, the bake files' paths and text
 * (compared exactly; bake files hold no values, and the preflight cache keeps
 * Dockerfile text the same way), and `key`, a SHA-256 over everything else
 * (options, targets, working directory, binaries, the variables' values and
 * a `.env`'s bytes, which may hold values). Hashing the files too cost 36 ms
 * of CPU at load 11 (pure-JS SHA-256, cold) and node:crypto 18-28 ms to load.
 * Or why the plan cannot be cached. Exported for tests.
 */
export function planKey(args: Pick<BakeArgs, 'files' | 'bakeArgs' | 'targets'>, docker: string, env: ChildEnv, cwd: string): { key: string; files: string } | { uncached: string } {
  if (args.targets.some((t) => !PLAIN_TARGET.test(t))) return { uncached: 'a target is not a plain name (a remote definition?)' };
  const names = args.files.length > 0 ? args.files : DEFAULT_BAKE_FILES.filter((f) => statKey(join(cwd, f)) !== '-');
  if (names.length === 0) return { uncached: 'no bake file in the working directory' };
  const parts: Buffer[] = [Buffer.from(`${VERSION}\0${cwd}\0${JSON.stringify(args.bakeArgs)}\0${JSON.stringify(args.targets)}\0`)];
  const texts: string[] = [];
  let files = '';
  for (const name of names) {
    if (!/\.(?:hcl|json)$/i.test(name)) return { uncached: `${name} is not an HCL or JSON bake file` };
    const path = resolvePath(cwd, name);
    let text: string;
    try {
      const st = lstatSync(path);
      if (!st.isFile() || files.length + st.size > MAX_FILES) return { uncached: `${name} is not a regular file, or the bake files are over 256 KiB` };
      text = readFileSync(path, 'utf8');
    } catch {
      return { uncached: `${name} cannot be read` };
    }
    if (IMPURE.test(text)) return { uncached: `${name} calls a function whose answer changes between runs` };
    texts.push(text);
    files += `${path}\0${text.length}\0${text}\0`;
  }
  // Compose reads .env; with HCL it is not known to matter, but it costs one read to be sure. Only a
  // regular file, bounded: a FIFO (or a link to /dev/zero) is never opened, and the plan is not cached.
  let dotenv: Buffer | undefined;
  try {
    dotenv = readRegularSync(join(cwd, '.env'), MAX_FILES);
    if (!dotenv) return { uncached: '.env is not a regular file' };
  } catch (err) {
    if (isTooLarge(err)) return { uncached: '.env is over 256 KiB' };
    // none
  }
  if (dotenv) {
    texts.push(dotenv.toString('utf8'));
    parts.push(Buffer.from('\0.env\0'), dotenv);
  }
  const vars = Object.keys(env)
    .filter((n) => n === 'SOURCE_DATE_EPOCH' || VAR_PREFIXES.some((p) => n.startsWith(p)) || texts.some((t) => t.includes(n)))
    .sort();
  parts.push(Buffer.from(vars.map((n) => `${n}=${env[n]}`).join('\0')));
  const configDir = env.DOCKER_CONFIG ?? (env.HOME ? join(env.HOME, '.docker') : undefined);
  const plugins = [...(configDir ? [join(configDir, 'cli-plugins')] : []), ...PLUGIN_DIRS].map((d) => join(d, 'docker-buildx'));
  parts.push(Buffer.from(`\0${docker}:${statKey(docker)}\0${plugins.map((p) => `${p}:${statKey(p)}`).join('\0')}`));
  return { key: sha256(...parts).toString('hex'), files };
}

interface Entry {
  key: string;
  files: string;
  targets: BakeTarget[];
}

/** The last ERROR line of bake's stderr (its own message about the bake file), else its last line. */
function bakeError(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  return [...lines].reverse().find((l) => l.startsWith('ERROR')) ?? lines[lines.length - 1] ?? 'no message';
}

/**
 * The fix for a failed `bake --print`: bake stats every `src=` file (and `id=X`
 * alone means `src=X`) even for an id secbuild will serve, so such an entry
 * must name `env=` instead.
 */
function printFix(stderr: string, provided: readonly string[]): string {
  const missing = /failed to stat ([^:]+):/.exec(stderr)?.[1];
  if (!missing || provided.length === 0) return 'fix the bake file, -f or --set.';
  return `bake reads every secret entry's src= file (id=X alone means src=X), even for an id secbuild provides (${provided.map((id) => `"${id}"`).join(', ')}): write such an entry as id=ID,env=NAME (secbuild replaces it), or fix the path.`;
}

/** The targets bake resolves for `args`: from the cache when every input is unchanged, else from `bake --print`. `provided`: the ids secbuild serves, for the fix of a failed --print. */
export async function bakePlan(args: BakeArgs, docker: string, childEnv: ChildEnv, cwd: string, env: NodeJS.ProcessEnv, provided: readonly string[] = []): Promise<BakePlan> {
  const printArgv = bakePrintArgv(args.files, args.sets, args.targets);
  // Typed text (a credential may be typed into a --set): shown as such, as no secret has resolved to mask it yet.
  const shown = showTyped(printableArgv([docker, ...printArgv]).join(' '));
  const k = planKey(args, docker, childEnv, cwd);
  const name = `bake/${sha256(Buffer.from(cwd)).toString('hex').slice(0, 16)}.json`;
  const entries = 'key' in k ? (readCache<{ v?: string; plans?: Entry[] }>(env, name) ?? {}) : {};
  const plans = entries.v === VERSION && Array.isArray(entries.plans) ? entries.plans : [];
  const hit = 'key' in k ? plans.find((p) => p.key === k.key && p.files === k.files && Array.isArray(p.targets)) : undefined;
  if (hit) {
    debug(`bake plan: from the cache (${name})`);
    return { targets: hit.targets, shown, cached: true, save: () => undefined };
  }
  debug(`bake plan: ${'key' in k ? 'not in the cache' : `not cached: ${k.uncached}`}; asking bake`);

  const printed = await capture(docker, printArgv, { env: childEnv, cwd, timeoutMs: 60_000, noTerminal: true });
  if (printed.failedToStart) throw new UsageError(`cannot run ${docker} (${printed.failedToStart}); check --docker or PATH.`);
  if (printed.exitCode !== 0) throw new UsageError(`${shown} failed: ${hideCredentials(bakeError(printed.stderr))}; ${printFix(printed.stderr, provided)}`);
  const targets = parseBakePrint(printed.stdout.toString('utf8'), shown);
  const save = (values: readonly Secret[]) => {
    if (!('key' in k)) return;
    if (carriedSecret(`${k.files}\0${JSON.stringify(targets)}`, values)) return debug('bake plan: not cached: a bake file or a target carries a secret');
    writeCache(env, name, { v: VERSION, plans: [{ key: k.key, files: k.files, targets }, ...plans.filter((p) => p.key !== k.key || p.files !== k.files)].slice(0, KEEP) });
  };
  return { targets, shown, cached: false, save };
}
