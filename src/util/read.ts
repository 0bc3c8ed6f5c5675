/**
 * Bounded reads of files secbuild is pointed at (a Dockerfile, a
 * .dockerignore): never more than `limit + 1` bytes are read, in chunks, so
 * `-f /dev/zero`, an endless FIFO or a huge file cannot make secbuild allocate
 * without bound (V8 would abort with std::bad_alloc). A regular file larger
 * than the limit is refused from its size, before any read. Asynchronous, so
 * a FIFO waiting for its writer does not block the signal handlers.
 *
 * The caller words the refusal: `readBounded` throws a `TooLarge` (or the
 * open/read error as it is: ENOENT, EACCES, EISDIR…), never a message.
 */

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
  // Loaded here: node:fs/promises is not needed by a build that reads no file.
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
