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
 * test/unit/user-file.test.ts enumerates every module of src/ that writes
 * files, so a new write at a user-given path cannot bypass this one.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { writeExclusive } from './rundir.js';

export function writeUserFile(path: string, data: string | Buffer): void {
  const target = resolve(path);
  const tmp = join(dirname(target), `.${basename(target).slice(0, 200)}.secbuild-${randomBytes(6).toString('hex')}`);
  writeExclusive(tmp, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
