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
 * The file is code, so it is trusted as strictly as code: it is read only
 * from a directory and a file of the user's own, writable by no one else,
 * never through a symlink, at most MAX_CACHE_BYTES; it is written to a new
 * file (O_EXCL | O_NOFOLLOW, 0600) renamed into place, and only the newest
 * MAX_CACHE_FILES stay. V8 refuses a cache of
 * another source, V8 version or flags (the run then compiles as usual and
 * writes a new one); the build id (a digest of the bundle, on its first line)
 * keeps a cache from being used with another bundle of the same length. It
 * holds compiled source only, never a value a run handled. Any error here
 * only costs the compile. SECBUILD_NO_CACHE=1 turns it off.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { writeExclusive } from '../run/rundir.js';
import { cacheDir } from '../util/cache.js';

/** A code cache larger than this is not read (the entry's is about 100-300 KB). */
export const MAX_CACHE_BYTES = 16 << 20;
/** Caches kept (the newest): a few kinds of command for a few installs and node versions. */
export const MAX_CACHE_FILES = 32;

/** Changes when the wrapper below changes: a cache compiled around another wrapper is never offered to V8. */
const WRAPPER_FORMAT = 1;

/** The commands that get a cache of their own; anything else is a build. */
const KINDS = new Set(['compose', 'verify', 'check', 'exec', 'secrets', 'secret', 'doctor', 'clean', 'help']);

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
  return join(cacheDir(env), 'code', `${id}_${WRAPPER_FORMAT}-${process.version}-${process.arch}-${kind}.bin`);
}

/** Mode bits that let someone else write. */
const FOREIGN_WRITE = 0o022;

const own = (st: { uid: number; mode: number }) => st.uid === process.getuid!() && (st.mode & FOREIGN_WRITE) === 0;

/** The directory holds only what its owner put there: ours, writable by no one else, not a symlink. */
function trustedDir(dir: string): boolean {
  const st = lstatSync(dir);
  return st.isDirectory() && own(st);
}

/** The cache file's bytes, when the file and its directory are trusted (see the header); else undefined. */
export function readTrusted(path: string): Buffer | undefined {
  try {
    if (!trustedDir(dirname(path))) return undefined;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || !own(st) || st.size > MAX_CACHE_BYTES || st.size === 0) return undefined;
      const data = Buffer.allocUnsafe(st.size);
      let have = 0;
      while (have < data.length) {
        const n = readSync(fd, data, have, data.length - have, null);
        if (n === 0) return undefined; // shrank while read
        have += n;
      }
      return data;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Writes `data` as a new 0600 file renamed over `path`, and prunes the directory. */
export function writeTrusted(path: string, data: Buffer): void {
  const dir = dirname(path);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (!trustedDir(dir)) return;
    writeExclusive(tmp, data);
    renameSync(tmp, path);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // it was not created
    }
    return;
  }
  prune(dir, path);
}

/**
 * Keeps the MAX_CACHE_FILES newest caches (by the time they were written)
 * and removes the rest, and temporary files a killed writer left over a
 * minute ago. Not "every other bundle's": two installs of secbuild (a global
 * one and a project's) share the directory and would remove each other's
 * caches on every run.
 */
function prune(dir: string, kept: string): void {
  try {
    const bins: Array<{ path: string; mtime: number }> = [];
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      const mtime = lstatSync(path).mtimeMs;
      if (name.endsWith('.bin')) bins.push({ path, mtime });
      else if (name.endsWith('.tmp') && Date.now() - mtime > 60_000) remove(path);
    }
    bins.sort((x, y) => y.mtime - x.mtime);
    for (const { path } of bins.slice(MAX_CACHE_FILES)) if (path !== kept) remove(path);
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

/** Compiles and runs the entry bundle `file` (with its code cache when there is a trusted one). */
export function runEntry(file: string, argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): void {
  const source = readFileSync(file, 'utf8');
  const cache = cachePath(env, buildId(source), kindOf(argv));
  const cachedData = cache ? readTrusted(cache) : undefined;
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __import) {${source}\n})`, { filename: file, cachedData });
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
  const dir = dirname(file);
  const load = (specifier: string) => import(specifier.startsWith('./') ? pathToFileURL(join(dir, specifier)).href : specifier);
  const module = { exports: {} };
  (script.runInThisContext() as Entry)(module.exports, createRequire(file), module, file, dir, load);
}
