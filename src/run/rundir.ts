/**
 * The run directory: one private directory per run, holding one file per
 * secret. It has exactly one owner (a RunDir object); every exit path —
 * return, throw, signal, process exit, the watchdog — ends in `remove()`.
 *
 * Root choice (Linux): --tmpdir / SECBUILD_TMPDIR, else $XDG_RUNTIME_DIR when it
 * is tmpfs, else /dev/shm when it is tmpfs, else the OS temp dir with a warning
 * (an error with --require-tmpfs). The file-system type comes from statfs(2)
 * of the root's real path.
 *
 * A root is normalised (path.resolve) before it is checked, so `link/` or `link/.` is the
 * symlink `link` — which is refused — and not its target. Whatever the umask, the run directory
 * is 0700 and each file 0600: both are ours, and set with fchmod right after they are created.
 */
import * as fs from 'node:fs';
import {
  constants, closeSync, fchmodSync, lstatSync, mkdtempSync, openSync, realpathSync, statfsSync, writeSync, fstatSync, rmSync, mkdirSync, chmodSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from '../util/errors.js';
import { removeTree, type WrittenSizes } from './remove.js';

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;
export const RUN_PREFIX = 'secbuild-';
/** A run directory's name as `create()` makes it (mkdtemp's six characters); group 1 is the pid. */
export const RUN_DIR_NAME = /^secbuild-(\d+)-[A-Za-z0-9]{6}$/;

export interface RootChoice {
  root: string;
  memoryBacked: boolean;
  /** How it was chosen, for doctor and --dry-run. */
  why: string;
}

/** Whether the file system holding `path` (its real path) is tmpfs or ramfs. */
export function isMemoryBacked(path: string): boolean {
  try {
    const type = statfsSync(realpathSync(path)).type;
    return type === TMPFS_MAGIC || type === RAMFS_MAGIC;
  } catch {
    return false;
  }
}

export function chooseRoot(opts: { tmpdir?: string; env: NodeJS.ProcessEnv; requireTmpfs: boolean; platform?: NodeJS.Platform }): RootChoice {
  const platform = opts.platform ?? process.platform;
  const given = opts.tmpdir ?? opts.env.SECBUILD_TMPDIR;
  let choice: RootChoice;
  if (given) {
    // resolve() drops a trailing `/` or `/.`: lstat of "link/" would follow the link.
    const explicit = resolve(given);
    const mem = isMemoryBacked(explicit);
    choice = { root: explicit, memoryBacked: mem, why: `${opts.tmpdir ? '--tmpdir' : 'SECBUILD_TMPDIR'} (${mem ? 'tmpfs' : 'not tmpfs'})` };
  } else {
    const xdg = opts.env.XDG_RUNTIME_DIR ? resolve(opts.env.XDG_RUNTIME_DIR) : undefined;
    if (platform === 'linux' && xdg && isMemoryBacked(xdg)) choice = { root: xdg, memoryBacked: true, why: 'XDG_RUNTIME_DIR (tmpfs)' };
    else if (platform === 'linux' && isMemoryBacked('/dev/shm')) choice = { root: '/dev/shm', memoryBacked: true, why: '/dev/shm (tmpfs)' };
    else choice = { root: tmpdir(), memoryBacked: isMemoryBacked(tmpdir()), why: 'the OS temp dir' };
  }
  if (!choice.memoryBacked && opts.requireTmpfs) {
    throw new UsageError(`--require-tmpfs: ${choice.root} is not a memory-backed file system (tmpfs); point --tmpdir or SECBUILD_TMPDIR at a tmpfs such as /dev/shm.`);
  }
  checkRoot(choice.root);
  return choice;
}

/**
 * Refuses a root that is a symlink, not a directory, or writable by others
 * without the sticky bit. `given` is normalised first (see the header).
 */
export function checkRoot(given: string): void {
  const root = resolve(given);
  let st;
  try {
    st = lstatSync(root);
  } catch (err) {
    throw new UsageError(`secret root ${root} cannot be used (${(err as NodeJS.ErrnoException).code}); create it or choose another with --tmpdir.`);
  }
  if (st.isSymbolicLink()) throw new UsageError(`secret root ${root} is a symbolic link; give its real path with --tmpdir.`);
  if (!st.isDirectory()) throw new UsageError(`secret root ${root} is not a directory; choose another with --tmpdir.`);
  const writableByOthers = (st.mode & 0o022) !== 0;
  const sticky = (st.mode & 0o1000) !== 0;
  if (writableByOthers && !sticky) {
    throw new UsageError(`secret root ${root} is writable by other users and has no sticky bit, so they could replace the run directory; use a private directory (chmod 700) or /dev/shm.`);
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    throw new UsageError(`secret root ${root} belongs to another user (uid ${st.uid}); choose a directory of your own with --tmpdir.`);
  }
}

/** What a run directory file is made of: a Secret, or the compose override (paths only). */
export interface FileContent {
  readonly id: string;
  readonly value: Buffer;
}

export interface SecretFile {
  id: string;
  path: string;
}

/**
 * Names secbuild's own files take in a run directory, which a secret file
 * (named by its id under `secbuild exec`) must not: `reap`, the podman
 * cleanup script the watchdog runs (src/engines/podman/reap.ts), and
 * `tmp-N`, podman's TMPDIRs. (`.alive` cannot be an id.)
 */
const OWN_NAMES = /^(?:reap|tmp-\d+)$/;

/** The file name of the index-th secret: `NN-id`, with anything unusual in the id replaced. */
export function secretFileName(id: string, index: number): string {
  return `${String(index).padStart(2, '0')}-${id.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

export class RunDir {
  private removed = false;
  /** What this run wrote, by relative path: removal overwrites those bytes and no more (./remove.ts). */
  private readonly sizes: Record<string, number> = {};
  private constructor(readonly path: string) {}

  /**
   * Creates `<root>/secbuild-<pid>-XXXXXX` and makes it exactly 0700: mkdtemp
   * asks for 0700 but the umask may take bits away (it runs under umask 077,
   * and the fchmod below settles the rest), and the directory is ours.
   * It is opened without following a symlink and checked through that fd; only
   * a result that is not our own private directory is refused.
   */
  static create(root: string): RunDir {
    let path: string;
    // Born 0700 whatever the umask: under 0777 mkdtemp would make it 0000, which only root may then open.
    const umask = process.umask(0o077);
    try {
      path = mkdtempSync(join(root, `${RUN_PREFIX}${process.pid}-`));
    } catch (err) {
      throw fileSystemProblem(err, root);
    } finally {
      process.umask(umask);
    }
    let st;
    try {
      const fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
      try {
        fchmodSync(fd, 0o700);
        st = fstatSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      rmSync(path, { recursive: true, force: true });
      throw new UsageError(`run directory ${path} was replaced as soon as it was created (${(err as NodeJS.ErrnoException).code}); choose a secret root only you can write to with --tmpdir.`, { cause: err });
    }
    if (!st.isDirectory() || (st.mode & 0o7777) !== 0o700 || (process.getuid && st.uid !== process.getuid())) {
      rmSync(path, { recursive: true, force: true });
      throw new UsageError(`run directory ${path} is not a private directory of this user (mode ${(st.mode & 0o7777).toString(8)}, uid ${st.uid}); choose a secret root only you can write to with --tmpdir.`);
    }
    return new RunDir(path);
  }

  /**
   * Writes each secret to its own file: created exclusively, never through a
   * symlink, then fchmod'ed to exactly 0600 whatever the umask. A file-system
   * error (full, read-only, name too long) is a UsageError naming the secret;
   * what was written so far goes with the directory (the owner's `remove()`).
   * `name` makes each file's name (default `NN-id`; `secbuild exec` uses the id).
   */
  writeAll(secrets: readonly FileContent[], name: (id: string, index: number) => string = secretFileName): SecretFile[] {
    const names = secrets.map((s, i) => name(s.id, i));
    secrets.forEach((s, i) => {
      if (OWN_NAMES.test(names[i]!)) throw new UsageError(`secret id "${shown(s.id)}" names ${names[i]}, which secbuild keeps for its own files in the run directory; choose another id.`);
    });
    return secrets.map((s, i) => {
      const path = join(this.path, names[i]!);
      this.sizes[basename(path)] = s.value.length;
      writeExclusive(path, s.value, (err) => fileSystemProblem(err, dirname(this.path), { id: s.id, bytes: s.value.length, name: basename(path) }));
      return { id: s.id, path };
    });
  }

  /**
   * Writes files of the run that need their own names (the derived Dockerfile
   * and its ignore file) into a fresh 0700 subdirectory `sub`, the same way as
   * the secrets. Returns the subdirectory's path.
   */
  writeNamed(sub: string, files: ReadonlyArray<{ name: string; value: Buffer }>): string {
    const dir = join(this.path, sub);
    try {
      mkdirSync(dir, { mode: 0o700 });
      chmodSync(dir, 0o700);
    } catch (err) {
      throw fileSystemProblem(err, dirname(this.path));
    }
    for (const f of files) {
      this.sizes[`${sub}/${f.name}`] = f.value.length;
      writeExclusive(join(dir, f.name), f.value, (err) => fileSystemProblem(err, dirname(this.path), { id: f.name, bytes: f.value.length, name: f.name }));
    }
    return dir;
  }

  /**
   * Removes the directory and everything in it (removeRunDir), overwriting
   * what this run wrote up to the size it wrote. Synchronous so it can run
   * from an 'exit' handler; never blocks (./remove.ts). Idempotent.
   */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    removeRunDir(this.path, this.sizes);
  }
}

/**
 * Creates `path` (O_EXCL, never through a symlink), exactly 0600 whatever the
 * umask, and writes `value`; `problem` makes the error (by default the file
 * system's own, for a caller that only cares whether it worked).
 */
export function writeExclusive(path: string, value: Buffer, problem: (err: unknown) => Error = (err) => err as Error): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (err) {
    throw problem(err);
  }
  try {
    fchmodSync(fd, 0o600);
    let off = 0;
    while (off < value.length) off += writeSync(fd, value, off, value.length - off);
  } catch (err) {
    throw problem(err);
  } finally {
    closeSync(fd);
  }
}

/** Unix socket paths are limited (sun_path, 108 bytes on Linux): the run directory's sockets (.alive, ssh agents, buildah's) must fit. */
export const MAX_SOCKET_PATH = 107;
export const socketPathFits = (path: string): boolean => Buffer.byteLength(path) <= MAX_SOCKET_PATH;

/** Longest name a Linux file system takes for one path element (NAME_MAX). */
const NAME_MAX = 255;

/** A long id shown in a message: its first 40 characters. */
const shown = (id: string) => (id.length > 40 ? `${id.slice(0, 40)}…` : id);

/**
 * The one sentence for a file-system error under the secret root: creating the
 * run directory, or writing `secret` into it. Always a UsageError (the user's
 * root, disk or id, not a bug), with the errno in brackets and the original
 * error as `cause`.
 */
export function fileSystemProblem(err: unknown, root: string, secret?: { id: string; bytes: number; name?: string }): UsageError {
  const code = (err as NodeJS.ErrnoException | null)?.code ?? 'unknown error';
  const fix = 'with --tmpdir or SECBUILD_TMPDIR';
  const say = (message: string) => new UsageError(message, { cause: err });
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return secret
        ? say(`secret root ${root} has no room for secret "${shown(secret.id)}" (${secret.bytes} bytes, ${code}); free space there or point --tmpdir or SECBUILD_TMPDIR at a larger tmpfs.`)
        : say(`secret root ${root} is full (${code}); free space there or point --tmpdir or SECBUILD_TMPDIR at another directory.`);
    case 'EACCES':
    case 'EPERM':
      return say(`secret root ${root} is not writable by this user (${code}); choose a directory of your own ${fix}.`);
    case 'EROFS':
      return say(`secret root ${root} is on a read-only file system (${code}); choose a writable directory ${fix}.`);
    case 'ENAMETOOLONG':
      return secret && Buffer.byteLength(secret.name ?? '') > NAME_MAX
        ? say(`secret "${shown(secret.id)}" cannot be written under ${root}: its file name is too long (${code}); use a shorter secret id.`)
        : say(`secret root ${root} is too long a path (${code}); choose a shorter one ${fix}.`);
    case 'EEXIST':
    case 'ELOOP':
      if (secret) return say(`run directory under ${root} already holds ${secret.name} (${code}), which this run did not create; secret "${shown(secret.id)}" was not written through it. Run again, and check what else writes under ${root}.`);
  }
  return say(`secret root ${root} cannot be written (${code}); choose another directory ${fix}.`);
}

/**
 * The one removal of a run directory (a run's own, the sweep's, the
 * watchdog's): never blocks, never follows a symlink, bounded overwriting;
 * see ./remove.ts.
 */
export function removeRunDir(path: string, sizes?: WrittenSizes): void {
  removeTree(fs, path, sizes);
}
