/**
 * The run directory: one private directory per run, holding one file per
 * secret. It has exactly one owner (a RunDir object); every exit path —
 * return, throw, signal, process exit, the watchdog — ends in `remove()`.
 *
 * Root choice (Linux): --tmpdir / SECBUILD_TMPDIR, else $XDG_RUNTIME_DIR when it
 * is tmpfs, else /dev/shm when it is tmpfs, else the OS temp dir with a warning
 * (an error with --require-tmpfs). The file-system type comes from statfs(2).
 */
import { constants, closeSync, fsyncSync, lstatSync, mkdtempSync, openSync, readdirSync, rmdirSync, statfsSync, unlinkSync, writeSync, fstatSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';

const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;
export const RUN_PREFIX = 'secbuild-';

export interface RootChoice {
  root: string;
  memoryBacked: boolean;
  /** How it was chosen, for doctor and --dry-run. */
  why: string;
}

export function isMemoryBacked(path: string): boolean {
  try {
    const type = statfsSync(path).type;
    return type === TMPFS_MAGIC || type === RAMFS_MAGIC;
  } catch {
    return false;
  }
}

export function chooseRoot(opts: { tmpdir?: string; env: NodeJS.ProcessEnv; requireTmpfs: boolean; platform?: NodeJS.Platform }): RootChoice {
  const platform = opts.platform ?? process.platform;
  const explicit = opts.tmpdir ?? opts.env.SECBUILD_TMPDIR;
  let choice: RootChoice;
  if (explicit) {
    const mem = isMemoryBacked(explicit);
    choice = { root: explicit, memoryBacked: mem, why: `${opts.tmpdir ? '--tmpdir' : 'SECBUILD_TMPDIR'} (${mem ? 'tmpfs' : 'not tmpfs'})` };
  } else {
    const xdg = opts.env.XDG_RUNTIME_DIR;
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

/** Refuses a root that is a symlink, not a directory, or writable by others without the sticky bit. */
export function checkRoot(root: string): void {
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

/** The file name of the index-th secret: `NN-id`, with anything unusual in the id replaced. */
export function secretFileName(id: string, index: number): string {
  return `${String(index).padStart(2, '0')}-${id.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

export class RunDir {
  private removed = false;
  private constructor(readonly path: string) {}

  /** Creates `<root>/secbuild-<pid>-XXXXXX` with mode 0700 and checks what was created. */
  static create(root: string): RunDir {
    const path = mkdtempSync(join(root, `${RUN_PREFIX}${process.pid}-`));
    const st = lstatSync(path);
    if (!st.isDirectory() || (st.mode & 0o777) !== 0o700 || (process.getuid && st.uid !== process.getuid())) {
      rmSync(path, { recursive: true, force: true });
      throw new UsageError(`run directory ${path} was not created private (mode ${(st.mode & 0o777).toString(8)}); check the secret root's permissions.`);
    }
    return new RunDir(path);
  }

  /** Writes each secret to its own file: created exclusively, 0600, never through a symlink. */
  writeAll(secrets: readonly FileContent[]): SecretFile[] {
    return secrets.map((s, i) => {
      const path = join(this.path, secretFileName(s.id, i));
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      try {
        let off = 0;
        while (off < s.value.length) off += writeSync(fd, s.value, off, s.value.length - off);
      } finally {
        closeSync(fd);
      }
      return { id: s.id, path };
    });
  }

  /**
   * Overwrites each file with zeros, unlinks it, removes the directory.
   * Synchronous so it can run from an 'exit' handler. Idempotent.
   */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    removeRunDir(this.path);
  }
}

export function removeRunDir(path: string): void {
  let names: string[] = [];
  try {
    names = readdirSync(path);
  } catch {
    return;
  }
  for (const name of names) {
    const file = join(path, name);
    try {
      const fd = openSync(file, constants.O_WRONLY | constants.O_NOFOLLOW);
      try {
        const size = fstatSync(fd).size;
        if (size > 0) {
          writeSync(fd, Buffer.alloc(size), 0, size, 0);
          fsyncSync(fd);
        }
      } finally {
        closeSync(fd);
      }
    } catch {
      // Not a regular file we can open (or already gone): unlink below all the same.
    }
    try {
      unlinkSync(file);
    } catch {
      rmSync(file, { recursive: true, force: true });
    }
  }
  try {
    rmdirSync(path);
  } catch {
    rmSync(path, { recursive: true, force: true });
  }
}
