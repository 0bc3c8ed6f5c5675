/**
 * The one removal of a run directory — a run's own (RunDir.remove), the sweep
 * of stale ones (every run and `secbuild clean`, ./liveness.ts) and the
 * watchdog's after a SIGKILL of secbuild (./watchdog.ts runs this very
 * function's source in a fresh node) — and the guarantee it enforces:
 * **cleanup never blocks, never follows a symlink and leaves nothing behind.**
 *
 * - Nothing that can block is opened. A FIFO, socket, device or symlink is
 *   only unlinked. Only an entry whose lstat says "regular file" is opened,
 *   with O_WRONLY|O_NONBLOCK|O_NOFOLLOW|O_NOCTTY (a FIFO swapped in after the
 *   lstat fails with ENXIO instead of waiting for a reader; a file lease fails
 *   with EWOULDBLOCK instead of waiting 45 s), and fstat must then show the
 *   same regular file before a byte is written. A synchronous open that blocks
 *   in the main thread would make secbuild deaf to SIGINT/SIGTERM/SIGHUP.
 * - Nothing is followed. On Linux every entry is reached through an O_PATH
 *   descriptor of its directory (`/proc/self/fd/N/name`, the openat of a
 *   language without openat), so a directory swapped for a symlink while we
 *   work cannot lead us out of the run directory; a directory on another file
 *   system or another mount (a bind mount of a directory of the same file
 *   system: fdinfo's mnt_id) is never entered, and once one is met no
 *   recursive rmSync fallback runs (its walk would cross it); the mount point
 *   and the run directory around it stay until it is unmounted.
 * - Permissions taken away inside the run directory (a read-only file, a
 *   directory without r/w/x) are given back to the owner — chmod through the
 *   entry's own O_PATH descriptor, so never through a symlink and never on
 *   anything outside the run directory — and only where they are missing.
 * - Overwriting is bounded: a file secbuild wrote is overwritten up to the size
 *   it wrote (`sizes`), any other regular file up to 1 MiB, 64 MiB and 2 s in
 *   all; a huge sparse file is unlinked, never filled. Unlinking is not bounded:
 *   everything goes.
 *
 * Self-contained on purpose: it refers to nothing but its parameters and
 * globals (Buffer, process, Date), so that `removeTree.toString()` is a
 * program the watchdog can run (see watchdog.ts). Never throws.
 */
import type * as Fs from 'node:fs';

/** Bytes each file holds as secbuild wrote it, by path relative to the run directory (`00-tok`, `df/Dockerfile`). */
export type WrittenSizes = Readonly<Record<string, number>>;

export function removeTree(fs: typeof Fs, path: string, sizes: WrittenSizes = {}): void {
  const { O_WRONLY, O_NONBLOCK, O_NOFOLLOW, O_NOCTTY, O_DIRECTORY } = fs.constants;
  /** Linux's O_PATH (not in fs.constants): a handle on an inode that opens nothing. */
  const O_PATH = 0o10000000;
  const PER_FILE = 1 << 20;
  const MAX_DEPTH = 200;
  const deadline = Date.now() + 2_000;
  let budget = 64 << 20;
  const zeros = Buffer.alloc(64 << 10);
  const quiet = (fn: () => void): boolean => {
    try {
      fn();
      return true;
    } catch {
      return false;
    }
  };

  /** A directory being emptied: `self` names the directory itself, `at(name)` an entry of it, neither through a symlink. */
  interface Dir { self: string; at: (name: string) => string; close: () => void }
  let anchored = process.platform === 'linux';
  /** The mount the run directory is on (Linux: fdinfo's mnt_id), and whether a directory on another was met. */
  let rootMount: string | undefined;
  let mountMet = false;
  const mountOf = (fd: number): string | undefined => {
    try {
      return /^mnt_id:\s*(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1'))?.[1];
    } catch {
      return undefined;
    }
  };
  const open = (p: string, dev: number, ino: number): Dir | 'mount' | undefined => {
    if (anchored) {
      let fd: number;
      try {
        fd = fs.openSync(p, O_PATH | O_NOFOLLOW | O_DIRECTORY);
      } catch {
        return undefined;
      }
      const self = `/proc/self/fd/${fd}`;
      let st: Fs.Stats | undefined;
      try {
        st = fs.statSync(self);
      } catch {
        st = undefined;
      }
      // A bind mount of a directory of the same file system has the same st_dev: only the mount id tells.
      const mount = st ? mountOf(fd) : undefined;
      rootMount ??= mount;
      if (st && mount !== undefined && mount !== rootMount) {
        quiet(() => fs.closeSync(fd));
        mountMet = true;
        return 'mount';
      }
      if (st && st.dev === dev && st.ino === ino) return { self, at: (name: string) => `${self}/${name}`, close: () => quiet(() => fs.closeSync(fd)) };
      quiet(() => fs.closeSync(fd));
      if (st) return undefined; // swapped for another directory since the lstat: not ours to empty
      anchored = false; // no /proc (or not readable): plain paths, lstat before every step
    }
    return { self: p, at: (name: string) => `${p}/${name}`, close: () => {} };
  };
  /** chmod of exactly the entry `p` (lstat'ed as `st`), never through a symlink; false when it cannot be done safely. */
  const chmodEntry = (p: string, st: Fs.Stats, mode: number): boolean => {
    if (!anchored) return quiet(() => fs.lchmodSync?.(p, mode)); // macOS has lchmod; elsewhere, leave it
    let fd = -1;
    try {
      fd = fs.openSync(p, O_PATH | O_NOFOLLOW);
      const self = `/proc/self/fd/${fd}`;
      const now = fs.statSync(self);
      if (now.dev !== st.dev || now.ino !== st.ino || now.isSymbolicLink()) return false;
      fs.chmodSync(self, mode);
      return true;
    } catch {
      return false;
    } finally {
      if (fd >= 0) quiet(() => fs.closeSync(fd));
    }
  };
  const overwrite = (p: string, st: Fs.Stats, rel: string): void => {
    const limit = Math.min(st.size, sizes[rel] ?? PER_FILE, budget);
    if (limit <= 0 || Date.now() > deadline) return;
    if ((st.mode & 0o200) === 0 && !chmodEntry(p, st, 0o600)) return;
    let fd = -1;
    try {
      fd = fs.openSync(p, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
      const now = fs.fstatSync(fd);
      if (!now.isFile() || now.dev !== st.dev || now.ino !== st.ino) return;
      let off = 0;
      while (off < limit && Date.now() <= deadline) off += fs.writeSync(fd, zeros, 0, Math.min(zeros.length, limit - off), off);
      budget -= off;
      fs.fsyncSync(fd);
    } catch {
      // Not ours to write (or gone): it is unlinked all the same.
    } finally {
      if (fd >= 0) quiet(() => fs.closeSync(fd));
    }
  };
  const lstat = (p: string): Fs.Stats | undefined => {
    try {
      return fs.lstatSync(p);
    } catch {
      return undefined;
    }
  };

  let top = lstat(path);
  if (!top) return;
  if (!top.isDirectory()) {
    quiet(() => fs.unlinkSync(path)); // the run directory replaced by a link or a file: that, and nothing it names
    return;
  }
  // Moved out of the way first, to another run-directory name (the sweep still knows it): a process the
  // command left behind that writes to $SECBUILD_SECRETS/... cannot refill it while it is emptied.
  const m = /^(.*\/secbuild-\d+-)[A-Za-z0-9]{6}$/.exec(path);
  if (m) {
    const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    const moved = m[1] + Array.from({ length: 6 }, () => abc[Math.floor(Math.random() * abc.length)]).join('');
    if (!lstat(moved) && quiet(() => fs.renameSync(path, moved))) {
      path = moved;
      top = lstat(path) ?? top;
    }
  }
  /** Empties `dir` (`p`, relative path `rel`), depth-first without recursion in JS (a deep tree cannot overflow the stack). */
  interface Frame { dir: Dir; rel: string; names: string[]; next: number; parent?: Frame; name?: string }
  const enter = (p: string, st: Fs.Stats, rel: string, parent?: Frame, name?: string): Frame | 'mount' | undefined => {
    const dir = open(p, st.dev, st.ino);
    if (!dir || dir === 'mount') return dir;
    if ((st.mode & 0o700) !== 0o700) chmodEntry(p, st, 0o700);
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir.self);
    } catch {
      // unreadable: rmdir below fails and the fallback has its turn
    }
    return { dir, rel, names, next: 0, parent, name };
  };
  const rootDev = top.dev;
  // Passes until it is gone: something still writing by a descriptor gets 2 s, then the sweep has it.
  for (let pass = 0; pass === 0 || (Date.now() <= deadline && (top = lstat(path)) && top.isDirectory()); pass++) {
    const first = enter(path, top, '');
    let frame = first === 'mount' ? undefined : first;
    let depth = 0;
    while (frame) {
      if (frame.next >= frame.names.length) {
        frame.dir.close();
        const done = frame;
        frame = frame.parent;
        depth--;
        if (frame && done.name !== undefined) {
          const p = frame.dir.at(done.name);
          if (!quiet(() => fs.rmdirSync(p)) && !mountMet) quiet(() => fs.rmSync(p, { recursive: true, force: true }));
        }
        continue;
      }
      const name = frame.names[frame.next++]!;
      const p = frame.dir.at(name);
      const rel = frame.rel ? `${frame.rel}/${name}` : name;
      const st = lstat(p);
      if (!st) continue;
      if (st.isDirectory()) {
        if (st.dev !== rootDev) continue; // a mount point: never entered (and it cannot be removed)
        const child = depth < MAX_DEPTH ? enter(p, st, rel, frame, name) : undefined;
        if (child === 'mount') continue; // a bind mount: never entered
        if (child) {
          frame = child;
          depth++;
        } else if (!quiet(() => fs.rmdirSync(p)) && !mountMet) quiet(() => fs.rmSync(p, { recursive: true, force: true }));
        continue;
      }
      if (st.isFile()) overwrite(p, st, rel);
      quiet(() => fs.unlinkSync(p));
    }
    if (quiet(() => fs.rmdirSync(path))) return;
  }
  // The last resort crosses mounts (rmSync's walk has no mount check): not when one is inside.
  if (!mountMet) quiet(() => fs.rmSync(path, { recursive: true, force: true }));
}

/**
 * removeTree as a program for `node -e PROGRAM DIR`: what the watchdog runs
 * after a SIGKILL of secbuild (./watchdog.ts), the same function as a run's
 * own removal, from its own source text.
 */
export const REMOVE_PROGRAM = `(${removeTree.toString()})(require('node:fs'), process.argv[1]);`;
