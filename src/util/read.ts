/**
 * Bounded reads of files secbuild is pointed at (a Dockerfile, a
 * .dockerignore): never more than `limit + 1` bytes are read, in chunks, so
 * `-f /dev/zero`, an endless FIFO or a huge file cannot make secbuild allocate
 * without bound (V8 would abort with std::bad_alloc). A regular file larger
 * than the limit is refused from its size, before any read. A regular file is
 * read synchronously; a FIFO on the event loop (readPipe), so one waiting for
 * its writer never holds a thread that node's exit would wait for; anything
 * else asynchronously.
 *
 * The caller words the refusal: `readBounded` throws a `TooLarge` (or the
 * open/read error as it is: ENOENT, EACCES, EISDIR…), never a message.
 */

import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { UsageError } from './errors.js';

/** The most of a Dockerfile (or its .dockerignore) secbuild reads. */
export const MAX_DOCKERFILE_BYTES = 1024 * 1024;

const TOO_LARGE = 'SECBUILD_TOO_LARGE';

/** The refusal of a Dockerfile over MAX_DOCKERFILE_BYTES, worded alike by build, compose and check; `fix` names where the path came from. */
export function dockerfileTooLarge(path: string, fix = 'check -f'): string {
  const limit = `${MAX_DOCKERFILE_BYTES / (1024 * 1024)} MiB`;
  return `Dockerfile ${path} is larger than ${limit}; ${fix} (secbuild reads at most ${limit} of a Dockerfile).`;
}

/** `path` holds more than `limit` bytes; `size` is known for a regular file. */
export class TooLarge extends Error {
  readonly code = TOO_LARGE;
  constructor(
    readonly path: string,
    readonly limit: number,
    readonly size?: number,
  ) {
    super(`${path} holds more than ${limit} bytes`);
  }
}

/** By its code, not `instanceof`: each command bundle has its own copy of this module. */
export function isTooLarge(err: unknown): err is TooLarge {
  return (err as { code?: unknown } | null)?.code === TOO_LARGE;
}

/** The bytes of `path`, at most `limit` of them; more is a `TooLarge`, found by reading at most `limit + 1`. */
export async function readBounded(path: string, limit: number, opts: { refuseDirectory?: boolean } = {}): Promise<Buffer> {
  const regular = readRegularSync(path, limit);
  if (regular) return regular;
  // A FIFO (or socket) is opened without waiting (O_NONBLOCK) and read on the event loop
  // (./read.ts readPipe): an open that waits for the writer would hold a thread of libuv's
  // pool, and node's exit joins those threads, so SIGINT could not end the run.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  let piped = false;
  try {
    const st = fstatSync(fd);
    piped = st.isFIFO() || st.isSocket();
  } finally {
    if (!piped) closeSync(fd);
  }
  if (piped) return readPipe(fd, path, limit);
  // Anything else that is not a regular file (a device, a directory): read asynchronously.
  // node:fs/promises is loaded only here.
  const { open } = await import('node:fs/promises');
  const handle = await open(path, 'r');
  try {
    const st = await handle.stat();
    if (opts.refuseDirectory && st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path} is a directory`), { code: 'EISDIR' });
    if (st.isFile() && st.size > limit) throw new TooLarge(path, limit, st.size);
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= limit) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, limit + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (total > limit) throw new TooLarge(path, limit, st.isFile() ? st.size : undefined);
    return Buffer.concat(chunks, total);
  } finally {
    await handle.close();
  }
}

/**
 * A FIFO's bytes, at most `limit` (more is a `TooLarge`), read through a
 * net.Socket on `fd` (opened O_NONBLOCK; the socket owns and closes it): the
 * event loop waits for the writer and its data, no thread of the pool does,
 * so a signal can still end the process. A FIFO nobody opened for writing
 * yet is waited for, as a blocking open would (Linux reports no hang-up
 * before a writer came and went).
 */
async function readPipe(fd: number, path: string, limit: number): Promise<Buffer> {
  const { Socket } = await import('node:net');
  return new Promise((resolve, reject) => {
    const pipe = new Socket({ fd, readable: true, writable: false });
    const chunks: Buffer[] = [];
    let total = 0;
    pipe.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        for (const c of [...chunks, chunk]) c.fill(0);
        pipe.destroy();
        reject(new TooLarge(path, limit));
        return;
      }
      chunks.push(chunk);
    });
    pipe.on('end', () => {
      pipe.destroy();
      const out = Buffer.concat(chunks, total);
      for (const c of chunks) c.fill(0);
      resolve(out);
    });
    pipe.on('error', reject);
  });
}

/** The most of a file secbuild reads only to check it (an env file docker or Compose will read). */
export const MAX_CHECKED_BYTES = 1024 * 1024;

/**
 * The text of a file that docker or Compose will read and secbuild must check
 * first (`what`: "--env-file app.env"): regular files only, bounded. A FIFO or
 * device is refused, as reading it would take the engine's data (or never
 * end); a file secbuild cannot open gives undefined: the engine says why.
 */
export async function readToCheck(what: string, path: string): Promise<string | undefined> {
  let regular: boolean;
  try {
    regular = statSync(path).isFile();
  } catch {
    return undefined;
  }
  if (!regular) throw new UsageError(`${what} is not a regular file: secbuild reads it to check that it carries no secret, and reading it would take its data from docker; write it to a regular file.`);
  try {
    return (await readBounded(path, MAX_CHECKED_BYTES)).toString('utf8');
  } catch (err) {
    if (isTooLarge(err)) throw new UsageError(`${what} is larger than 1 MiB; secbuild reads at most 1 MiB of it to check that it carries no secret.`);
    return undefined;
  }
}

/**
 * The common case, a regular file, read synchronously: a regular file's read
 * does not wait for a writer, and this spares the thread pool and
 * node:fs/promises (~2 ms of a cached build). Anything but a regular file is
 * never opened here (opening a FIFO would take its writer's data or wait for
 * one): undefined is returned and the asynchronous path reads it, with the
 * same bounds. O_NONBLOCK in case the path became a FIFO since the stat.
 * Errors of the stat or open (ENOENT, EACCES…) are thrown as they are.
 */
export function readRegularSync(path: string, limit: number): Buffer | undefined {
  if (!statSync(path).isFile()) return undefined;
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    if (st.size > limit) throw new TooLarge(path, limit, st.size);
    // At most limit + 1 bytes, also when the file grows while it is read.
    const chunks: Buffer[] = [];
    let total = 0;
    let size = st.size + 1;
    while (total <= limit) {
      const chunk = Buffer.allocUnsafe(Math.min(size, limit + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      size = 64 * 1024;
    }
    if (total > limit) throw new TooLarge(path, limit, st.size);
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
