/**
 * The run directory's removal (src/run/remove.ts, through removeRunDir and
 * RunDir.remove): whatever a command under `secbuild exec` (or anything else)
 * leaves in the run directory, removal finishes within a bound, opens nothing
 * that can block, follows no symlink, changes nothing outside the directory,
 * and leaves nothing behind. Each case runs the removal in a child process
 * with a timeout, so a removal that blocks fails the test instead of hanging
 * the run; the permission cases run it as uid 65534 (root ignores the
 * permissions they take away), which needs root, as CI has.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import {
  chmodSync, chownSync, closeSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REMOVE_PROGRAM } from '../../src/run/remove.js';
import { RunDir, removeRunDir } from '../../src/run/rundir.js';
import { Watchdog } from '../../src/run/watchdog.js';
import { skipUnlessCI } from '../helpers/ci.js';

const asRoot = !skipUnlessCI(process.getuid?.() !== 0 && 'they need root', 'rundir-remove: the cases run as uid 65534');
const NOBODY = 65534;
/** Far more than any removal here takes (milliseconds); a blocked one is killed at this point. */
const BOUND_MS = 5_000;

let base: string;
beforeAll(() => {
  // Reachable by uid 65534 (the permission cases), like a user's own /dev/shm directory.
  base = mkdtempSync(join('/dev/shm', 'secbuild-unit-remove-'));
  if (asRoot) chownSync(base, NOBODY, NOBODY);
});
afterAll(() => {
  spawnSync('chmod', ['-R', 'u+rwx', base]);
  rmSync(base, { recursive: true, force: true });
});

let n = 0;
/** A fresh directory under the base, owned by `uid` (the one that will remove it). */
function fresh(uid = 0): string {
  const path = join(base, `run${n++}`);
  mkdirSync(path, { mode: 0o700 });
  if (uid) chownSync(path, uid, uid);
  return path;
}

/** Runs the removal of `dir` in a child node as `uid`, killed after BOUND_MS: how long it took, and whether it finished. */
function removeInChild(dir: string, uid = 0): { ms: number; finished: boolean } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', REMOVE_PROGRAM, dir], {
    timeout: BOUND_MS, killSignal: 'SIGKILL', stdio: 'ignore', ...(uid ? { uid, gid: uid } : {}),
  });
  return { ms: Date.now() - t0, finished: r.status === 0 };
}

const gone = (path: string) => expect(() => lstatSync(path)).toThrow(/ENOENT/);

describe('removal opens nothing that can block', () => {
  test('a FIFO with no reader (mkfifo "$SECBUILD_SECRETS/p"): removed within the bound, the secret beside it zeroed', () => {
    const dir = fresh();
    writeFileSync(join(dir, 'tok'), 'secret value');
    const link = join(base, `link${n++}`);
    linkSync(join(dir, 'tok'), link);
    spawnSync('mkfifo', [join(dir, 'p')]);
    expect(lstatSync(join(dir, 'p')).isFIFO()).toBe(true);
    const r = removeInChild(dir);
    expect(r.finished, `removal still blocked after ${r.ms} ms`).toBe(true);
    gone(dir);
    expect(readFileSync(link)).toEqual(Buffer.alloc('secret value'.length));
  });

  test('a Unix socket, listening and not: unlinked, never connected to', async () => {
    const dir = fresh();
    let connections = 0;
    const server: Server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(join(dir, 'live.sock'), resolve));
    try {
      const dead = createServer();
      await new Promise<void>((resolve) => dead.listen(join(dir, 'dead.sock'), resolve));
      await new Promise<void>((resolve) => dead.close(() => resolve()));
      writeFileSync(join(dir, 'dead.sock.keep'), '');
      const r = removeInChild(dir);
      expect(r.finished).toBe(true);
      gone(dir);
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  test.each([
    ['256 MiB', 2 ** 28],
    ['1 TiB', 2 ** 40],
  ])('a huge sparse file (%s apparent size): removed within the bound, and never filled', (_name, size) => {
    const dir = fresh();
    const file = join(dir, 'sparse');
    writeFileSync(file, '');
    truncateSync(file, size);
    const link = join(base, `link${n++}`);
    linkSync(file, link);
    const r = removeInChild(dir);
    expect(r.finished).toBe(true);
    gone(dir);
    // What was overwritten is allocated: at most the bound for a file secbuild did not write (1 MiB).
    expect(statSync(link).blocks * 512).toBeLessThanOrEqual(1 << 20);
  });

  test('a tree deeper than the walk descends (300 levels) and wide (2000 files): all removed within the bound', () => {
    const dir = fresh();
    let p = dir;
    for (let i = 0; i < 300; i++) {
      p = join(p, 'd');
      mkdirSync(p);
    }
    mkdirSync(join(dir, 'wide'));
    for (let i = 0; i < 2000; i++) writeFileSync(join(dir, 'wide', `f${i}`), 'x');
    const r = removeInChild(dir);
    expect(r.finished).toBe(true);
    gone(dir);
  });
});

describe('removal follows no symlink', () => {
  test('a symlink to a file outside: the link is removed, the target keeps its bytes and its mode', () => {
    const victim = join(base, `victim${n++}`);
    writeFileSync(victim, 'untouched');
    chmodSync(victim, 0o444);
    const dir = fresh();
    symlinkSync(victim, join(dir, 'to-file'));
    const r = removeInChild(dir);
    expect(r.finished).toBe(true);
    gone(dir);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    expect(statSync(victim).mode & 0o7777).toBe(0o444);
  });

  test('a symlink to a directory outside, and a nested one: nothing in the target is removed or chmodded', () => {
    const outside = join(base, `outside${n++}`);
    mkdirSync(join(outside, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'sub', 'keep'), 'keep');
    chmodSync(join(outside, 'sub'), 0o500);
    const dir = fresh();
    symlinkSync(outside, join(dir, 'to-dir'));
    mkdirSync(join(dir, 'nested'));
    symlinkSync(join(outside, 'sub'), join(dir, 'nested', 'to-sub'));
    const r = removeInChild(dir);
    expect(r.finished).toBe(true);
    gone(dir);
    expect(readFileSync(join(outside, 'sub', 'keep'), 'utf8')).toBe('keep');
    expect(statSync(join(outside, 'sub')).mode & 0o7777).toBe(0o500);
  });
});

/** Whether this process may mount (root with CAP_SYS_ADMIN, as CI's container has). */
const canMount = asRoot && (() => {
  const probe = mkdtempSync(join('/dev/shm', 'secbuild-unit-mount-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', 'none', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
})();
if (asRoot) skipUnlessCI(!canMount && 'mount -t tmpfs failed (no CAP_SYS_ADMIN here)', 'rundir-remove: the mount cases');

describe.skipIf(!canMount)('removal never enters a file system mounted inside the run directory (needs mount)', () => {
  // A command under exec (sshfs, rclone, a bind mount as root in a CI container) may mount something at
  // $SECBUILD_SECRETS/x and exit without unmounting: what is mounted there is not the run's to delete.
  const mounted: string[] = [];
  afterAll(() => mounted.forEach((m) => spawnSync('umount', ['-l', m])));

  test.each([
    ['a tmpfs (another file system)', (at: string, _outside: string) => spawnSync('mount', ['-t', 'tmpfs', 'none', at]).status === 0],
    ['a bind mount of a directory on the same file system', (at: string, outside: string) => spawnSync('mount', ['--bind', outside, at]).status === 0],
  ])('%s: nothing in it is zeroed or removed; the secret beside it is', (_what, mount) => {
    const outside = join(base, `outside${n++}`);
    mkdirSync(outside);
    const dir = fresh();
    writeFileSync(join(dir, '00-tok'), 'secret-value');
    mkdirSync(join(dir, 'm'));
    expect(mount(join(dir, 'm'), outside)).toBe(true);
    mounted.push(join(dir, 'm'));
    mkdirSync(join(dir, 'm', 'sub'));
    writeFileSync(join(dir, 'm', 'sub', 'keep'), 'keep');
    writeFileSync(join(dir, 'm', 'top'), 'top');
    const r = removeInChild(dir);
    expect(r.finished).toBe(true);
    expect(readFileSync(join(dir, 'm', 'sub', 'keep'), 'utf8')).toBe('keep');
    expect(readFileSync(join(dir, 'm', 'top'), 'utf8')).toBe('top');
    expect(readdirSync(dir)).toEqual(['m']);
  });

  test('the watchdog after a SIGKILL of secbuild (its pipe closed without "done"): the bind-mounted directory keeps its files', async () => {
    const outside = join(base, `outside${n++}`);
    mkdirSync(outside);
    writeFileSync(join(outside, 'keep'), 'keep');
    const dir = fresh();
    writeFileSync(join(dir, '00-tok'), 'secret-value');
    mkdirSync(join(dir, 'm'));
    expect(spawnSync('mount', ['--bind', outside, join(dir, 'm')]).status).toBe(0);
    mounted.push(join(dir, 'm'));
    const dog = Watchdog.start(dir)!;
    const exited = new Promise((resolve) => (dog as unknown as { child: ChildProcess }).child.once('exit', resolve));
    (dog as unknown as { pipe: Writable }).pipe.end();
    await exited;
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('keep');
    expect(readdirSync(dir)).toEqual(['m']);
  });
});

describe.skipIf(!asRoot)('removal by a user whose permissions the command took away (run as uid 65534)', () => {
  /** `make` builds the tree as root; it is then handed to uid 65534 and removed by it. */
  const asNobody = (make: (dir: string) => void): string => {
    const dir = fresh(NOBODY);
    make(dir);
    spawnSync('chown', ['-R', '-h', `${NOBODY}:${NOBODY}`, dir]);
    return dir;
  };

  test('a file the command made read-only (0400): zeroed and removed', () => {
    const link = join(base, `link${n++}`);
    const dir = asNobody((d) => {
      writeFileSync(join(d, 'tok'), 'secret value');
      linkSync(join(d, 'tok'), link);
    });
    chmodSync(join(dir, 'tok'), 0o400);
    const r = removeInChild(dir, NOBODY);
    expect(r.finished).toBe(true);
    gone(dir);
    expect(readFileSync(link)).toEqual(Buffer.alloc('secret value'.length));
  });

  test.each([
    ['no permission at all (000)', 0o000],
    ['read and search only (0500)', 0o500],
    ['search only (0100)', 0o100],
    ['write only (0200)', 0o200],
  ])('a nested directory with %s, holding files and another such directory: all removed', (_name, mode) => {
    const dir = asNobody((d) => {
      mkdirSync(join(d, 'a', 'b'), { recursive: true });
      writeFileSync(join(d, 'a', 'f'), 'x');
      writeFileSync(join(d, 'a', 'b', 'g'), 'y');
    });
    chmodSync(join(dir, 'a', 'b'), mode);
    chmodSync(join(dir, 'a'), mode);
    const r = removeInChild(dir, NOBODY);
    expect(r.finished).toBe(true);
    gone(dir);
  });

  test('the run directory itself made unwritable (0500): removed', () => {
    const dir = asNobody((d) => writeFileSync(join(d, 'tok'), 'x'));
    chmodSync(dir, 0o500);
    const r = removeInChild(dir, NOBODY);
    expect(r.finished).toBe(true);
    gone(dir);
  });
});

describe('what is overwritten', () => {
  test('a file secbuild wrote and the command extended is zeroed up to the size secbuild wrote, no further', () => {
    const root = fresh();
    const run = RunDir.create(root);
    const [file] = run.writeAll([{ id: 'tok', value: Buffer.from('secret value') }]);
    writeFileSync(file!.path, '+appended', { flag: 'a' });
    const link = join(base, `link${n++}`);
    linkSync(file!.path, link);
    run.remove();
    gone(run.path);
    expect(readFileSync(link)).toEqual(Buffer.concat([Buffer.alloc('secret value'.length), Buffer.from('+appended')]));
  });

  test('removeRunDir of a path that is a symlink to a directory removes the link, not what it names', () => {
    const target = fresh();
    writeFileSync(join(target, 'keep'), 'keep');
    const link = join(base, `link${n++}`);
    symlinkSync(target, link);
    removeRunDir(link);
    gone(link);
    expect(readdirSync(target)).toEqual(['keep']);
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('keep');
  });

  test('an open descriptor on a removed secret reads zeros (the overwrite is of the file itself)', () => {
    const root = fresh();
    const run = RunDir.create(root);
    const [file] = run.writeAll([{ id: 'tok', value: Buffer.from('to be zeroed') }]);
    const fd = openSync(file!.path, 'r');
    try {
      run.remove();
      const buf = Buffer.alloc(32);
      expect(buf.subarray(0, readSync(fd, buf, 0, 32, 0))).toEqual(Buffer.alloc('to be zeroed'.length));
    } finally {
      closeSync(fd);
    }
  });
});
