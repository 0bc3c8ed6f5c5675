/**
 * The run directory's guarantees (src/run/rundir.ts), each against the real
 * file system: which roots are refused, the modes of what is created,
 * whatever the umask, exclusive creation that never follows a symlink, zeros
 * written over every file before it is unlinked, and the one-sentence usage
 * errors for a full, read-only or unwritable root and a name too long (the
 * sweep is in liveness.test.ts). The tests run as root (as CI does); the
 * other-owner and real-tmpfs cases (chown to uid 65534, mount) are skipped,
 * visibly, for anyone else.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync, chownSync, closeSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { checkRoot, chooseRoot, fileSystemProblem, isMemoryBacked, RunDir, secretFileName, type FileContent } from '../../src/run/rundir.js';
import { UsageError } from '../../src/util/errors.js';
import { skipUnlessCI } from '../helpers/ci.js';

const asRoot = !skipUnlessCI(process.getuid?.() !== 0 && 'chown to uid 65534 and mount need root', 'rundir: the other-owner and real-tmpfs cases');
const NOBODY = 65534;

let base: string;
beforeAll(() => {
  base = mkdtempSync(join('/dev/shm', 'secbuild-unit-rundir-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
/** A fresh directory under the tmpfs test base, with the given mode. */
function dir(mode = 0o700, parent = base): string {
  const path = join(parent, `d${n++}`);
  mkdirSync(path);
  chmodSync(path, mode);
  return path;
}

const secret = (id: string, text: string): FileContent => ({ id, value: Buffer.from(text) });

describe('the secret root', () => {
  test.each<[string, () => string, RegExp]>([
    ['a symlink to a private directory', () => {
      const link = join(base, `link${n++}`);
      symlinkSync(dir(0o700), link);
      return link;
    }, /is a symbolic link; give its real path with --tmpdir/],
    ['world-writable without the sticky bit', () => dir(0o777), /is writable by other users and has no sticky bit/],
    ['group-writable without the sticky bit', () => dir(0o770), /is writable by other users and has no sticky bit/],
    ['a regular file', () => {
      const file = join(base, `file${n++}`);
      writeFileSync(file, '');
      return file;
    }, /is not a directory/],
    ['missing', () => join(base, 'no-such-dir'), /cannot be used \(ENOENT\); create it or choose another with --tmpdir/],
  ])('refused: %s', (_name, make, message) => {
    const root = make();
    expect(() => checkRoot(root)).toThrow(message);
    expect(() => chooseRoot({ tmpdir: root, env: {}, requireTmpfs: false })).toThrow(UsageError);
  });

  test.each<[string, string]>([
    ['a trailing slash', '/'],
    ['a trailing /.', '/.'],
    ['a trailing //./', '//./'],
  ])('refused: a symlink given with %s (lstat would follow it), and nothing is created on its target', (_name, tail) => {
    const target = dir(0o700);
    const link = join(base, `link${n++}`);
    symlinkSync(target, link);
    expect(() => checkRoot(link + tail)).toThrow(new RegExp(`^secret root ${link} is a symbolic link; give its real path with --tmpdir\\.$`));
    expect(() => chooseRoot({ tmpdir: link + tail, env: {}, requireTmpfs: false })).toThrow(UsageError);
    expect(() => chooseRoot({ env: { SECBUILD_TMPDIR: link + tail }, requireTmpfs: false })).toThrow(/is a symbolic link/);
    expect(readdirSync(target)).toEqual([]);
  });

  test('an accepted root is returned normalised: no trailing slash or /., relative made absolute', () => {
    const root = dir(0o700);
    expect(chooseRoot({ tmpdir: `${root}/./`, env: {}, requireTmpfs: false }).root).toBe(root);
    expect(chooseRoot({ tmpdir: relative(process.cwd(), root), env: {}, requireTmpfs: false }).root).toBe(root);
  });

  test('the tmpfs decision is made on the real path: a root under a symlinked directory on disk is not memory-backed', () => {
    const disk = mkdtempSync(join(tmpdir(), 'secbuild-unit-disk-'));
    try {
      if (isMemoryBacked(disk)) return;
      const via = join(base, `via${n++}`);
      symlinkSync(disk, via);
      mkdirSync(join(disk, 'root'), { mode: 0o700 });
      expect(chooseRoot({ tmpdir: join(via, 'root'), env: {}, requireTmpfs: false }).memoryBacked).toBe(false);
      expect(() => chooseRoot({ tmpdir: join(via, 'root'), env: {}, requireTmpfs: true })).toThrow(/is not a memory-backed file system/);
    } finally {
      rmSync(disk, { recursive: true, force: true });
    }
  });

  test.skipIf(!asRoot)('refused: owned by another user (uid 65534)', () => {
    const root = dir(0o700);
    chownSync(root, NOBODY, NOBODY);
    expect(() => checkRoot(root)).toThrow(/belongs to another user \(uid 65534\); choose a directory of your own with --tmpdir/);
    expect(() => chooseRoot({ tmpdir: root, env: {}, requireTmpfs: false })).toThrow(UsageError);
  });

  test.each<[string, number]>([
    ['private (0700)', 0o700],
    ['world-writable with the sticky bit, like /tmp (1777)', 0o1777],
    ['read-only for others (0755)', 0o755],
  ])('accepted: %s', (_name, mode) => {
    const root = dir(mode);
    expect(() => checkRoot(root)).not.toThrow();
    expect(chooseRoot({ tmpdir: root, env: {}, requireTmpfs: true })).toEqual({ root, memoryBacked: true, why: '--tmpdir (tmpfs)' });
  });

  test('SECBUILD_TMPDIR is used when there is no --tmpdir, and says so', () => {
    const root = dir(0o700);
    expect(chooseRoot({ env: { SECBUILD_TMPDIR: root }, requireTmpfs: false })).toEqual({ root, memoryBacked: true, why: 'SECBUILD_TMPDIR (tmpfs)' });
  });

  describe('--require-tmpfs', () => {
    // The OS temp dir is on disk here (ext4); where it is a tmpfs the case cannot be made.
    const disk = isMemoryBacked(tmpdir()) ? undefined : tmpdir();
    skipUnlessCI(!disk && `the OS temp dir ${tmpdir()} is a tmpfs, so there is no disk root to refuse`, 'rundir: the --require-tmpfs refusal');
    let root: string;
    beforeAll(() => {
      if (disk) root = mkdtempSync(join(disk, 'secbuild-unit-disk-'));
    });
    afterAll(() => {
      if (root) rmSync(root, { recursive: true, force: true });
    });

    test.skipIf(!disk)('a root that is not tmpfs is refused with the fix', () => {
      expect(() => chooseRoot({ tmpdir: root, env: {}, requireTmpfs: true })).toThrow(
        new RegExp(`^--require-tmpfs: ${root} is not a memory-backed file system \\(tmpfs\\); point --tmpdir or SECBUILD_TMPDIR at a tmpfs such as /dev/shm\\.$`),
      );
    });

    test.skipIf(!disk)('without it, the same root is accepted and marked as not memory-backed', () => {
      expect(chooseRoot({ tmpdir: root, env: {}, requireTmpfs: false })).toEqual({ root, memoryBacked: false, why: '--tmpdir (not tmpfs)' });
    });
  });
});

describe('RunDir', () => {
  test('is created as <root>/secbuild-<pid>-XXXXXX, a directory of ours with mode 0700', () => {
    const root = dir(0o1777);
    const run = RunDir.create(root);
    try {
      expect(run.path).toMatch(new RegExp(`^${root}/secbuild-${process.pid}-[A-Za-z0-9]{6}$`));
      const st = lstatSync(run.path);
      expect(st.isDirectory()).toBe(true);
      expect(st.mode & 0o7777).toBe(0o700);
      expect(st.uid).toBe(process.getuid!());
    } finally {
      run.remove();
    }
  });

  test('each secret gets its own file, NN-id, mode 0600, byte-exact', () => {
    const run = RunDir.create(dir());
    try {
      const binary = Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0x80]);
      const files = run.writeAll([secret('tok', 'value one'), { id: 'bin', value: binary }, secret('odd id/..', 'x'), secret('empty', '')]);
      expect(files).toEqual([
        { id: 'tok', path: join(run.path, '00-tok') },
        { id: 'bin', path: join(run.path, '01-bin') },
        { id: 'odd id/..', path: join(run.path, '02-odd_id_..') },
        { id: 'empty', path: join(run.path, '03-empty') },
      ]);
      for (const f of files) expect(statSync(f.path).mode & 0o7777).toBe(0o600);
      expect(readFileSync(files[0]!.path, 'utf8')).toBe('value one');
      expect(readFileSync(files[1]!.path).equals(binary)).toBe(true);
      expect(readFileSync(files[3]!.path).length).toBe(0);
    } finally {
      run.remove();
    }
  });

  test.each<[string, number]>([
    ['0277 (owner read-only)', 0o277],
    ['0377', 0o377],
    ['0777 (nothing at all)', 0o777],
    ['0022 (the usual)', 0o022],
    ['0000', 0o000],
  ])('whatever the umask (%s), the directory is exactly 0700 and each file exactly 0600, and removal still zeroes', (_name, mask) => {
    const root = dir(0o700);
    const old = process.umask(mask);
    let run: RunDir | undefined;
    try {
      run = RunDir.create(root);
      const [file] = run.writeAll([secret('tok', 'value')]);
      expect(lstatSync(run.path).mode & 0o7777).toBe(0o700);
      expect(lstatSync(file!.path).mode & 0o7777).toBe(0o600);
      expect(readFileSync(file!.path, 'utf8')).toBe('value');
    } finally {
      process.umask(old);
      run?.remove();
    }
    expect(readdirSync(root)).toEqual([]);
  });

  test('a secret id too long for a file name (ENAMETOOLONG) is a usage error naming the secret and the fix', () => {
    const root = dir(0o700);
    const run = RunDir.create(root);
    try {
      const id = 'a'.repeat(300);
      expect(() => run.writeAll([secret(id, 'value')])).toThrow(UsageError);
      expect(() => run.writeAll([secret(id, 'value')])).toThrow(
        new RegExp(`^secret "a{40}…" cannot be written under ${root}: its file name is too long \\(ENAMETOOLONG\\); use a shorter secret id\\.$`),
      );
    } finally {
      run.remove();
    }
    expect(readdirSync(root)).toEqual([]);
  });

  describe.skipIf(!asRoot)('on a real small tmpfs (mount needs root)', () => {
    const mounted: string[] = [];
    const mountTmpfs = (options: string): string => {
      const at = dir(0o700);
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at]);
      mounted.push(at);
      return at;
    };
    afterAll(() => {
      for (const at of mounted) spawnSync('umount', [at]);
    });

    test('a full tmpfs (ENOSPC while writing a secret) is a usage error naming the root and the secret; the partial file is zeroed and removed with the directory', () => {
      const root = mountTmpfs('size=64k,mode=0700');
      const run = RunDir.create(root);
      try {
        const big = { id: 'big', value: Buffer.alloc(200 * 1024, 0x61) };
        let thrown: unknown;
        try {
          run.writeAll([secret('small', 'fits'), big]);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(UsageError);
        expect((thrown as Error).message).toBe(
          `secret root ${root} has no room for secret "big" (204800 bytes, ENOSPC); free space there or point --tmpdir or SECBUILD_TMPDIR at a larger tmpfs.`,
        );
      } finally {
        run.remove();
      }
      expect(readdirSync(root)).toEqual([]);
    });

    test('a read-only root (EROFS creating the run directory) is a usage error naming the root and the fix', () => {
      const root = mountTmpfs('ro,size=64k,mode=0700');
      expect(() => RunDir.create(root)).toThrow(UsageError);
      expect(() => RunDir.create(root)).toThrow(
        new RegExp(`^secret root ${root} is on a read-only file system \\(EROFS\\); choose a writable directory with --tmpdir or SECBUILD_TMPDIR\\.$`),
      );
    });
  });

  const errno = (code: string) => Object.assign(new Error(`${code}: from the kernel`), { code });
  test.each<[string, string, { id: string; bytes: number } | undefined, string]>([
    ['EACCES', 'EACCES', undefined, 'secret root /r is not writable by this user (EACCES); choose a directory of your own with --tmpdir or SECBUILD_TMPDIR.'],
    ['EPERM', 'EPERM', undefined, 'secret root /r is not writable by this user (EPERM); choose a directory of your own with --tmpdir or SECBUILD_TMPDIR.'],
    ['EROFS', 'EROFS', undefined, 'secret root /r is on a read-only file system (EROFS); choose a writable directory with --tmpdir or SECBUILD_TMPDIR.'],
    ['ENOSPC creating the directory', 'ENOSPC', undefined, 'secret root /r is full (ENOSPC); free space there or point --tmpdir or SECBUILD_TMPDIR at another directory.'],
    ['EDQUOT writing a secret', 'EDQUOT', { id: 'tok', bytes: 5 }, 'secret root /r has no room for secret "tok" (5 bytes, EDQUOT); free space there or point --tmpdir or SECBUILD_TMPDIR at a larger tmpfs.'],
    ['ENAMETOOLONG of the root', 'ENAMETOOLONG', undefined, 'secret root /r is too long a path (ENAMETOOLONG); choose a shorter one with --tmpdir or SECBUILD_TMPDIR.'],
    ['an unusual code', 'EIO', undefined, 'secret root /r cannot be written (EIO); choose another directory with --tmpdir or SECBUILD_TMPDIR.'],
  ])('fileSystemProblem: %s is one plain sentence with the fix', (_name, code, s, message) => {
    const err = fileSystemProblem(errno(code), '/r', s);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(message);
    expect((err as Error & { cause?: unknown }).cause).toMatchObject({ code });
  });

  test.each<[string, number, string]>([
    ['tok', 0, '00-tok'],
    ['tok', 7, '07-tok'],
    ['tok', 123, '123-tok'],
    ['a b,c"d', 1, '01-a_b_c_d'],
    ['../../etc/passwd', 2, '02-.._.._etc_passwd'],
    ['ünï', 3, '03-_n_'],
  ])('secretFileName(%j, %i) is %j: no separator or unusual byte reaches the path', (id, index, name) => {
    expect(secretFileName(id, index)).toBe(name);
  });

  test('exclusive creation: a second file with the same name is refused and the first is left as it was', () => {
    const run = RunDir.create(dir());
    try {
      const [first] = run.writeAll([secret('tok', 'first')]);
      expect(() => run.writeAll([secret('tok', 'second')])).toThrow(/EEXIST/);
      expect(readFileSync(first!.path, 'utf8')).toBe('first');
    } finally {
      run.remove();
    }
  });

  test.each<[string, boolean]>([
    ['an existing file', true],
    ['a path that does not exist yet', false],
  ])('a symlink planted at the file\'s path, pointing at %s, is not followed', (_name, targetExists) => {
    const outside = dir();
    const victim = join(outside, 'victim');
    if (targetExists) writeFileSync(victim, 'untouched');
    const run = RunDir.create(dir());
    try {
      symlinkSync(victim, join(run.path, secretFileName('tok', 0)));
      expect(() => run.writeAll([secret('tok', 'secret bytes')])).toThrow(/EEXIST|ELOOP/);
      if (targetExists) expect(readFileSync(victim, 'utf8')).toBe('untouched');
      else expect(() => lstatSync(victim)).toThrow(/ENOENT/);
    } finally {
      run.remove();
    }
    if (targetExists) expect(readFileSync(victim, 'utf8')).toBe('untouched');
  });

  test('remove() writes zeros over every file before unlinking it (seen through a hard link and an open fd)', () => {
    const root = dir();
    const run = RunDir.create(root);
    const [file] = run.writeAll([secret('tok', 'secret value to be zeroed')]);
    const link = join(root, 'hard-link');
    linkSync(file!.path, link);
    const fd = openSync(file!.path, 'r');
    try {
      run.remove();
      expect(() => lstatSync(run.path)).toThrow(/ENOENT/);
      expect(readFileSync(link)).toEqual(Buffer.alloc('secret value to be zeroed'.length));
      const viaFd = Buffer.alloc(64);
      const got = readSync(fd, viaFd, 0, viaFd.length, 0);
      expect(viaFd.subarray(0, got)).toEqual(Buffer.alloc('secret value to be zeroed'.length));
    } finally {
      closeSync(fd);
    }
  });

  test('remove() is synchronous and idempotent, and removes whatever else is inside without following symlinks', () => {
    const outside = dir();
    const victim = join(outside, 'victim');
    writeFileSync(victim, 'untouched');
    const run = RunDir.create(dir());
    run.writeAll([secret('tok', 'v')]);
    symlinkSync(victim, join(run.path, 'planted-link'));
    mkdirSync(join(run.path, 'planted-dir'));
    writeFileSync(join(run.path, 'planted-dir', 'f'), 'x');
    expect(run.remove()).toBeUndefined();
    expect(() => lstatSync(run.path)).toThrow(/ENOENT/);
    expect(() => run.remove()).not.toThrow();
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
  });
});

