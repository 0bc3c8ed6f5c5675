/**
 * The one way secbuild gives a file of the run directory the owner and mode
 * a container's user needs (`compose up`'s long-syntax uid/gid/mode,
 * `secbuild run --secret …,uid=,gid=,mode=`): through an fd opened without
 * following a symlink, so the change lands on secbuild's own file. docker and
 * Compose bind-mount the file as it is; the 0700 run directory still keeps
 * other users of this machine out.
 */
import { closeSync, constants, fchmodSync, fchownSync, openSync } from 'node:fs';
import { UsageError } from '../util/errors.js';

/** Sets `o` on secret `id`'s file; a UsageError naming the fix when the owner cannot be changed (not root). */
export function setOwnership(path: string, id: string, o: { uid: number; gid: number; mode: number }): void {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (o.uid !== process.getuid?.() || o.gid !== process.getgid?.()) fchownSync(fd, o.uid, o.gid);
      fchmodSync(fd, o.mode);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new UsageError(
      `secret "${id}" asks for uid ${o.uid} and gid ${o.gid}, which secbuild cannot give its file (${(err as NodeJS.ErrnoException).code}; changing a file's owner needs root); drop uid/gid and use mode 0444, or run as root.`,
      { cause: err },
    );
  }
}
