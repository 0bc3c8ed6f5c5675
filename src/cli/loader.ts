/**
 * Runs the bundled entry (dist/secbuild.cjs) with V8's code cache of it, so
 * that a run does not compile the 170 KB entry again: `bin/secbuild.js`
 * calls `runEntry()`, and nothing else runs before it.
 *
 * The entry is CommonJS wrapped in a function (scripts/build.mjs writes it
 * so, with its `import()` calls renamed `__import()`, which this passes in)
 * and compiled as a `vm.Script` with `cachedData`. After the first run of a
 * kind of command (a build, `--version`, each subcommand), the code V8
 * compiled for it is written to
 * `$XDG_CACHE_HOME/secbuild/code/<build id>_<wrapper>-<node version>-<arch>-<kind>.bin`.
 * Node 22's `module.enableCompileCache()` does the same; Node 20 lacks it.
 *
 * The file is code, so it is trusted as strictly as code: it is read and
 * written only through the trusted-state reader (src/run/trusted.ts): from
 * the cache root down, every directory and the file the user's own, writable
 * by no one else, never through a symlink, at most MAX_CACHE_BYTES; it is
 * written to a new file (O_EXCL | O_NOFOLLOW, 0600) renamed into place, and only the newest
 * MAX_CACHE_FILES stay. V8 refuses a cache of
 * another source, V8 version or flags (the run then compiles as usual and
 * writes a new one); the build id (a digest of the bundle, on its first line)
 * keeps a cache from being used with another bundle of the same length. It
 * holds compiled source only, never a value a run handled. Any error here
 * only costs the compile. SECBUILD_NO_CACHE=1 turns it off.
 */
import { lstatSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { cacheDir } from '../run/cache.js';
import { readState, withStateDir, writeState } from '../run/trusted.js';

/** A code cache larger than this is not read (the entry's is about 100-300 KB). */
export const MAX_CACHE_BYTES = 16 << 20;
/** Caches kept (the newest): the entry and the parts a kind of command runs, for a few installs and node versions. */
export const MAX_CACHE_FILES = 64;

/**
 * Changes when the wrapper below changes: a cache compiled around another wrapper is never offered to V8 (it
 * checks only the source's length; 2: scripts/build.mjs writes the wrapper into the file).
 */
const WRAPPER_FORMAT = 2;

/**
 * What the entry's code runs in. scripts/build.mjs writes it into dist/secbuild.cjs after the build id line
 * (the same text there); a file without it (tests) is wrapped here, at the cost of copying the whole text.
 */
export const ENTRY_WRAPPER = '(function (exports, require, module, __filename, __dirname, __import) {';

/** The commands that get a cache of their own; anything else is a build. */
const KINDS = new Set(['compose', 'bake', 'verify', 'check', 'exec', 'run', 'secrets', 'secret', 'doctor', 'clean', 'help']);

/** The bundle's build id, from its first line (`// secbuild-build <hex>`), or undefined. */
export function buildId(source: string): string | undefined {
  return /^\/\/ secbuild-build ([0-9a-f]{16,64})\n/.exec(source)?.[1];
}

export function kindOf(argv: readonly string[]): string {
  const first = argv[0];
  if (first === '--version' || first === '-V') return 'version';
  return first !== undefined && KINDS.has(first) ? first : 'build';
}

/** Where the code cache of this bundle, node and kind of command lives; undefined when there is none to use. */
export function cachePath(env: NodeJS.ProcessEnv, id: string | undefined, kind: string): string | undefined {
  if (!id || env.SECBUILD_NO_CACHE === '1' || typeof process.getuid !== 'function') return undefined;
  try {
    return join(cacheDir(env), 'code', `${id}_${WRAPPER_FORMAT}-${process.version}-${process.arch}-${kind}.bin`);
  } catch {
    return undefined; // no home: no cache
  }
}

/**
 * The cache file's bytes, when it is trusted: read through the trusted-state
 * reader (src/run/trusted.ts) from the cache root (`path`'s grandparent,
 * the `secbuild` directory) down, never through a symlink; else undefined.
 */
export function readTrusted(path: string): Buffer | undefined {
  const read = readState(dirname(dirname(path)), join(basename(dirname(path)), basename(path)), { maxBytes: MAX_CACHE_BYTES });
  return read.ok && read.data.length > 0 ? read.data : undefined;
}

/** Writes `data` as a new 0600 file renamed over `path` (src/run/trusted.ts writeState), and prunes the directory. */
export function writeTrusted(path: string, data: Buffer): void {
  const root = dirname(dirname(path));
  const sub = basename(dirname(path));
  if (writeState(root, join(sub, basename(path)), data)) prune(root, sub, basename(path));
}

/**
 * Keeps the MAX_CACHE_FILES newest caches (by the time they were written)
 * and removes the rest, and temporary files a killed writer left over a
 * minute ago. Not "every other bundle's": two installs of secbuild (a global
 * one and a project's) share the directory and would remove each other's
 * caches on every run. The directory is the one the writer checked and
 * opened, never the path looked up again.
 */
function prune(root: string, sub: string, kept: string): void {
  try {
    withStateDir(root, sub, false, (at) => {
      const bins: Array<{ name: string; mtime: number }> = [];
      for (const name of readdirSync(at(''))) {
        const mtime = lstatSync(at(name)).mtimeMs;
        if (name.endsWith('.bin')) bins.push({ name, mtime });
        else if (name.endsWith('.tmp') && Date.now() - mtime > 60_000) remove(at(name));
      }
      bins.sort((x, y) => y.mtime - x.mtime);
      for (const { name } of bins.slice(MAX_CACHE_FILES)) if (name !== kept) remove(at(name));
    });
  } catch {
    // only costs disk space
  }
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

type Entry = (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string, load: (specifier: string) => Promise<unknown>) => void;

/**
 * Compiles and runs the entry bundle `file` (with its code cache when there is a trusted one). Its
 * `import()` of a CommonJS part (`./NAME.cjs`, scripts/build.mjs) runs that part the same way, with a
 * code cache of its own, once per run; any other specifier (execa's ES module part, a dependency) goes to
 * node's module loader.
 */
export function runEntry(file: string, argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): void {
  const kind = kindOf(argv);
  const dir = dirname(file);
  const parts = new Map<string, Promise<unknown>>();
  const load = (specifier: string): Promise<unknown> => {
    if (!specifier.startsWith('./')) return import(specifier);
    if (!specifier.endsWith('.cjs')) return import(pathToFileURL(join(dir, specifier)).href);
    let part = parts.get(specifier);
    if (part) return part;
    // Known before it runs: a part it imports that imports it back gets this promise (as import() would
    // give), instead of running it again, and again, until the stack overflows.
    let resolve!: (exports: unknown) => void;
    let reject!: (err: unknown) => void;
    part = new Promise((res, rej) => ((resolve = res), (reject = rej)));
    parts.set(specifier, part);
    try {
      resolve(runScript(join(dir, specifier), kind, env, load));
    } catch (err) {
      reject(err);
    }
    return part;
  };
  runScript(file, kind, env, load);
}

/** Runs the wrapped CommonJS bundle `file` as a vm.Script with its trusted code cache for `kind`; returns its exports. */
function runScript(file: string, kind: string, env: NodeJS.ProcessEnv, load: (specifier: string) => Promise<unknown>): unknown {
  const source = readFileSync(file, 'utf8');
  const cache = cachePath(env, buildId(source), kind);
  const cachedData = cache ? readTrusted(cache) : undefined;
  const wrapped = source.startsWith(ENTRY_WRAPPER, source.indexOf('\n') + 1);
  const script = new Script(wrapped ? source : `${ENTRY_WRAPPER}${source}\n})`, { filename: file, cachedData });
  const fresh = !cachedData || script.cachedDataRejected;
  if (cache && fresh) {
    // At exit, V8 has compiled what this kind of run needs: that is what the next one reuses. Not after a
    // signal (128 + N): then the exit handlers that remove a run's secret files come first, without delay.
    process.once('exit', (code) => {
      if (code < 128) writeTrusted(cache, script.createCachedData());
    });
  }
  if (env.SECBUILD_DEBUG === '1') {
    const state = !cache ? 'off' : !cachedData ? 'none, written at exit' : script.cachedDataRejected ? 'refused by V8, written anew at exit' : 'used';
    process.stderr.write(`secbuild: debug: code cache ${state}${cache ? `: ${cache}` : ''}\n`);
  }
  const module = { exports: {} };
  (script.runInThisContext() as Entry)(module.exports, createRequire(file), module, file, dirname(file), load);
  return module.exports;
}
