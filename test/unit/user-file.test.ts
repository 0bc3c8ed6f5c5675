/**
 * One writer for files the user names (src/run/user-file.ts). Every module of
 * src/ that writes, renames or chmods files is listed here with the directory
 * it writes into; a module that starts writing somewhere else fails this test
 * until it goes through writeUserFile (a user-given path) or is listed (a
 * directory secbuild owns).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, lchownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { skipUnlessCI } from '../helpers/ci.js';
import { ROOT, sources } from '../helpers/source-files.js';
import { writeUserFile } from '../../src/run/user-file.js';

const WRITES = /\b(writeFileSync|appendFileSync|createWriteStream|chmodSync|fchmodSync|lchmodSync|renameSync|copyFileSync|cpSync|writeFile|appendFile|chmod|rename|copyFile)\(|O_WRONLY|O_RDWR|O_CREAT/;

/** Module → where it writes. Only src/run/user-file.ts writes at a path the user gave. */
const WRITERS: Record<string, string> = {
  'src/run/user-file.ts': 'a path the user names (--report)',
  'src/run/rundir.ts': "the run directory (secbuild's, 0700) and writeExclusive's new files",
  'src/run/file-owner.ts': "the run directory's secret files (the owner and mode a container's user needs)",
  'src/run/trusted.ts': "secbuild's cache and config directories (the trusted-state writer)",
  'src/run/remove.ts': 'the run directory (overwriting its files before removal)',
  'src/cli/loader.ts': "secbuild's code cache",
  'src/engines/podman/engine.ts': 'the run directory (the reaper script)',
};


describe('files secbuild writes', () => {
  test('every module that writes files is a known writer; a user-given path is written only by writeUserFile', () => {
    const writers = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'providers'))]
      .filter((f) => WRITES.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(writers.filter((f) => !(f in WRITERS))).toEqual([]);
    expect(readFileSync(join(ROOT, 'src/pipeline/report.ts'), 'utf8')).toMatch(/writeUserFile\(/);
  });

  const dir = mkdtempSync(join(tmpdir(), 'secbuild-userinput-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['a symlink to a file', (p: string) => (writeFileSync(join(dir, 'victim'), 'keep', { mode: 0o644 }), symlinkSync(join(dir, 'victim'), p))],
    ['a dangling symlink', (p: string) => symlinkSync(join(dir, 'planted'), p)],
    ["a file with the user's own mode", (p: string) => writeFileSync(p, 'old', { mode: 0o664 })],
    ['nothing', () => undefined],
  ])('writeUserFile over %s: a new 0600 file at the name, nothing written elsewhere', (_what, setup) => {
    const path = join(dir, `r-${Math.random().toString(36).slice(2)}`);
    rmSync(join(dir, 'victim'), { force: true });
    setup(path);
    writeUserFile(path, 'report\n');
    expect(lstatSync(path).isFile()).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe('report\n');
    expect(readdirSync(dir).filter((n) => n === 'planted' || n.includes('.secbuild-'))).toEqual([]);
    if (readdirSync(dir).includes('victim')) {
      expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep');
      expect(statSync(join(dir, 'victim')).mode & 0o777).toBe(0o644);
    }
  });

  test('writeUserFile onto a directory fails and leaves no temporary file', () => {
    const path = join(dir, 'adir');
    mkdirSync(path);
    expect(() => writeUserFile(path, 'x')).toThrow();
    expect(readdirSync(dir).filter((n) => n.includes('.secbuild-'))).toEqual([]);
  });

  // `--report /dev/null` or `/dev/stdout` as root: renaming over the name replaced the system's
  // /dev/null (a regular 0600 file then, every other user's writes to it refused) or /dev/stdout.
  test.each<[string, (p: string) => void]>([
    ['a FIFO', (p: string) => expect(spawnSync('mkfifo', [p]).status).toBe(0)],
    ...(process.geteuid?.() === 0 ? [['a character device (/dev/null\'s numbers)', (p: string) => expect(spawnSync('mknod', [p, 'c', '1', '3']).status).toBe(0)] as [string, (p: string) => void]] : []),
    ['a symlink to a FIFO', (p: string) => (expect(spawnSync('mkfifo', [`${p}-fifo`]).status).toBe(0), symlinkSync(`${p}-fifo`, p))],
    ["a symlink to /proc/self/fd/1 (what /dev/stdout is)", (p: string) => symlinkSync('/proc/self/fd/1', p)],
  ])('writeUserFile over %s: refused, the name left as it was', (_what, setup) => {
    const path = join(dir, `s-${Math.random().toString(36).slice(2)}`);
    setup(path);
    const before = lstatSync(path);
    expect(() => writeUserFile(path, 'report\n')).toThrow(/not a regular file/);
    const after = lstatSync(path);
    expect([after.ino, after.mode]).toEqual([before.ino, before.mode]);
    expect(readdirSync(dir).filter((n) => n.includes('.secbuild-'))).toEqual([]);
  });

  // With fs.protected_symlinks=0 (the kernel's default is off; this machine's too) the kernel follows
  // anyone's symlink in /tmp: --report /tmp/build/report.json as root, /tmp/build a symlink uid 65534 made.
  const notRoot = skipUnlessCI(process.geteuid?.() !== 0 && 'it makes a symlink owned by uid 65534, which needs root', 'user-file: the other user\'s symlink case');
  test.skipIf(notRoot)("writeUserFile through another user's symlink in a sticky directory others can write (/tmp): refused, nothing written where it points", () => {
    const sticky = join(dir, `sticky-${Math.random().toString(36).slice(2)}`);
    mkdirSync(sticky);
    chmodSync(sticky, 0o1777);
    const target = join(dir, `target-${Math.random().toString(36).slice(2)}`);
    mkdirSync(target);
    symlinkSync(target, join(sticky, 'build'));
    lchownSync(join(sticky, 'build'), 65534, 65534);
    expect(() => writeUserFile(join(sticky, 'build', 'report.json'), 'report\n')).toThrow(/symlink/);
    expect(readdirSync(target)).toEqual([]);
  });

  test('writeUserFile through the user\'s own symlinked directory: written there', () => {
    const target = join(dir, `own-${Math.random().toString(36).slice(2)}`);
    mkdirSync(target);
    const link = join(dir, `ownlink-${Math.random().toString(36).slice(2)}`);
    symlinkSync(target, link);
    writeUserFile(join(link, 'report.json'), 'report\n');
    expect(readFileSync(join(target, 'report.json'), 'utf8')).toBe('report\n');
  });
});
