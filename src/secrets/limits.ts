/**
 * Size limits on foreign input, and the one bounded read every file goes
 * through: a secret value, a template and a config file are read up to their
 * limit plus one byte and no further, so `/dev/zero`, a FIFO or a huge file
 * cannot make secbuild buffer without bound.
 */
import { open } from 'node:fs/promises';

/**
 * BuildKit refuses a secret larger than this (moby/buildkit
 * session/secrets/secretsprovider/files.go: `MaxSecretSize = 500 * 1024`,
 * compared with `>`), so secbuild checks it before docker runs.
 */
export const MAX_SECRET_BYTES = 500 * 1024;

/** A `template:` file of secbuild.yml (the rendered secret must still fit in MAX_SECRET_BYTES). */
export const MAX_TEMPLATE_BYTES = 1024 * 1024;

/** secbuild.yml itself. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** A limit as people say it: "500 KiB", "1 MiB". */
export function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

export interface BoundedRead {
  /** What was read: at most `maxBytes` bytes (empty when `over`). */
  bytes: Buffer;
  /** The file holds more than `maxBytes`: it was not read to its end. */
  over: boolean;
  /** The size of a regular file, when it is one. */
  size?: number;
}

/**
 * Reads at most `maxBytes + 1` bytes of `path`. A regular file larger than the
 * limit is refused from its size, before any read. Asynchronous on purpose: a
 * FIFO such as `<(op read …)` (/dev/fd/63) may wait for its writer, and signal
 * handlers must keep running meanwhile. Errors from open and read (ENOENT,
 * EACCES, EISDIR…) are thrown as they are, for the caller to word.
 */
export async function readAtMost(path: string, maxBytes: number): Promise<BoundedRead> {
  const handle = await open(path, 'r');
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${path} is a directory`), { code: 'EISDIR' });
    if (st.isFile() && st.size > maxBytes) return { bytes: Buffer.alloc(0), over: true, size: st.size };
    const size = st.isFile() ? { size: st.size } : {};
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= maxBytes) {
      const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    if (total > maxBytes) return { bytes: Buffer.alloc(0), over: true, ...size };
    return { bytes: Buffer.concat(chunks, total), over: false, ...size };
  } finally {
    await handle.close();
  }
}
