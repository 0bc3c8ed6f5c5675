/**
 * The one writer for files the user names (`--report FILE`; docker itself
 * writes `--iidfile` and `--metadata-file`, secbuild only reads them). Such a
 * path may sit in a shared directory (/tmp, a CI workspace), where someone
 * else can put a symlink or a file of their own at it. So the file is never
 * opened at its name: a new file is created next to it (O_EXCL|O_NOFOLLOW,
 * 0600, by writeExclusive) and renamed over the name. rename(2) replaces a
 * symlink itself, never its target, and only secbuild's own new file ever
 * gets a mode from secbuild. In a sticky directory (/tmp) a name that belongs
 * to another user cannot be replaced: the write fails (EPERM) and the caller
 * says so.
 *
 * A name that is not a file is never replaced: a device, FIFO or socket, a
 * symlink to one, or a symlink to one of secbuild's own standard streams
 * (`/dev/null`, `/dev/stdout`: as root, the rename replaced the system's
 * /dev/null with a 0600 file). Nor is a directory reached through a symlink
 * another user made in a sticky directory others can write (`/tmp/build` ->
 * anywhere: what fs.protected_symlinks refuses, where it is off). The write
 * is refused instead (`userFileProblem` says why, before anything runs).
 *
 * test/unit/user-file.test.ts enumerates every module of src/ that writes
 * files, so a new write at a user-given path cannot bypass this one.
 */
import { fstatSync, lstatSync, readlinkSync, renameSync, rmSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { writeExclusive } from './rundir.js';

const kind = (st: Stats): string => (st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device');

/**
 * A symlink on the way to `dir` that another user planted: what the kernel's
 * fs.protected_symlinks refuses (and does not, where it is 0, this machine's
 * default): a symlink in a sticky directory others can write (/tmp), owned
 * by neither this user nor that directory's owner. Each symlink's target is
 * walked the same way (40 at most, as the kernel).
 */
function plantedSymlink(dir: string): string | undefined {
  const euid = typeof process.geteuid === 'function' ? process.geteuid() : -1;
  const todo = dir.split('/').filter(Boolean);
  let at = '/';
  for (let hops = 0; todo.length > 0; ) {
    const name = todo.shift()!;
    if (name === '.') continue;
    if (name === '..') {
      at = dirname(at);
      continue;
    }
    const next = join(at, name);
    let st: Stats;
    try {
      st = lstatSync(next);
    } catch {
      return undefined; // not there: the write says so
    }
    if (!st.isSymbolicLink()) {
      at = next;
      continue;
    }
    const parent = statSync(at);
    if ((parent.mode & 0o1002) === 0o1002 && st.uid !== euid && st.uid !== parent.uid) return next;
    if (++hops > 40) return next;
    const link = readlinkSync(next);
    todo.unshift(...link.split('/').filter(Boolean));
    if (isAbsolute(link)) at = '/';
  }
  return undefined;
}

/** Why secbuild may not put a file at `path` (it names something that is not a file, or lies past another user's symlink), or undefined. */
export function userFileProblem(path: string): string | undefined {
  const target = resolve(path);
  const planted = plantedSymlink(dirname(target));
  if (planted) return `${planted} is a symlink another user made in a directory others can write, which secbuild does not follow`;
  let st: Stats;
  try {
    st = lstatSync(target);
  } catch {
    return undefined; // nothing there (or unreadable: the write says why)
  }
  if (st.isFile()) return undefined;
  if (!st.isSymbolicLink()) return st.isDirectory() ? undefined : `it is ${kind(st)}, not a regular file`;
  try {
    st = statSync(target);
  } catch {
    return undefined; // dangling: the symlink is replaced
  }
  if (!st.isFile() && !st.isDirectory()) return `it is a symlink to ${kind(st)}, not a regular file`;
  for (const fd of [0, 1, 2]) {
    try {
      const s = fstatSync(fd);
      if (s.dev === st.dev && s.ino === st.ino) return `it is a symlink to secbuild's own standard ${fd === 0 ? 'input' : fd === 1 ? 'output' : 'error'}, not a regular file`;
    } catch {
      // not open
    }
  }
  return undefined;
}

export function writeUserFile(path: string, data: string | Buffer): void {
  const problem = userFileProblem(path);
  if (problem) throw new Error(problem);
  const target = resolve(path);
  // Web Crypto's generator, loaded here and not with this module: node:crypto costs every run ~1 ms to load.
  const nonce = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(6))).toString('hex');
  const tmp = join(dirname(target), `.${basename(target).slice(0, 200)}.secbuild-${nonce}`);
  writeExclusive(tmp, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
