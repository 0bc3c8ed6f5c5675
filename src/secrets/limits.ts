/**
 * Size limits on foreign input, and the one bounded read every file goes
 * through: a secret value, a template and a config file are read up to their
 * limit plus one byte and no further, so `/dev/zero`, a FIFO or a huge file
 * cannot make secbuild buffer without bound.
 */
import { isTooLarge, readBounded } from '../util/read.js';

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
 * Reads at most `maxBytes + 1` bytes of `path` (src/util/read.ts, the one
 * bounded reader): a regular file larger than the limit is refused from its
 * size, before any read; a FIFO such as `<(op read …)` is read asynchronously
 * so signal handlers keep running. Errors from open and read (ENOENT, EACCES,
 * EISDIR…) are thrown as they are, for the caller to word.
 */
export async function readAtMost(path: string, maxBytes: number): Promise<BoundedRead> {
  try {
    const bytes = await readBounded(path, maxBytes, { refuseDirectory: true });
    return { bytes, over: false };
  } catch (err) {
    if (!isTooLarge(err)) throw err;
    return { bytes: Buffer.alloc(0), over: true, ...(err.size === undefined ? {} : { size: err.size }) };
  }
}

/**
 * At most this many references resolve at once. Most providers start a
 * process (`cmd:`, and each store's CLI: `aws` is about 1 s of Python and
 * 60 MB), so a config with hundreds of them must not start hundreds at once.
 */
export const MAX_PARALLEL_RESOLVES = 8;
