/**
 * The image archive read from the daemon's own socket: the request
 * `docker save IMAGE` sends (`GET /images/get?names=IMAGE`), made by
 * secbuild on the Unix socket docker itself would use, the reply read into
 * one reused 1 MiB buffer (../run/bulk-stdout.ts) and searched as it streams.
 *
 * Why: through the docker client every byte of the archive is copied twice
 * more — daemon to client over the socket, client to secbuild over a pipe —
 * by a third process competing for the same two cores as the daemon that
 * writes the archive and the search that reads it. Measured on a 300 MB
 * image (`BENCH_SECTIONS="image scan" npm run bench`): `secbuild verify`
 * 1.10-1.29 x `docker save > /dev/null` through the client, under 1 x
 * through the socket.
 *
 * Used only where it is the same daemon the docker client would reach by
 * the same means: the endpoint docker resolves (-H, --context, DOCKER_HOST,
 * DOCKER_CONTEXT, the current context: ../engines/docker/reach.ts
 * archiveSocket) is a `unix://` socket this user can connect to. Anything else — ssh:// or
 * tcp:// (TLS), a socket this user may not open (docker through sudo),
 * podman's engine, SECBUILD_VERIFY_VIA=cli — runs `docker save` as before.
 *
 * HTTP/1.0, so the daemon sends the archive as it is (no chunked encoding)
 * and closes the connection after it: the body is every byte up to the end.
 * The reply's head is bounded (MAX_HEAD_BYTES), an error body too
 * (MAX_ERROR_BYTES); a body cut short is found by the scan (a missing layer
 * or end of archive, src/verify/save.ts incompleteScan).
 */
import { bulkConnect } from '../run/bulk-stdout.js';
import { debug } from '../util/log.js';
import { withoutControls } from '../util/shown.js';
import type { SaveEnd, StartedSave } from './save.js';

export const MAX_HEAD_BYTES = 16 << 10;
export const MAX_ERROR_BYTES = 8 << 10;

/**
 * Asks the daemon at the Unix socket `path` for `image`'s archive. Resolves
 * to undefined when nothing accepts the connection there (no socket, not
 * this user's to open): the caller runs `docker save` instead. When the
 * daemon there does not have the image (404), `elsewhere` is started and read
 * instead: the docker the user named (a wrapper, another client) may reach
 * another daemon than the socket docker's own settings name.
 */
export async function startApiSave(path: string, image: string, elsewhere?: () => Promise<StartedSave>): Promise<StartedSave | undefined> {
  const conn = bulkConnect(path);
  try {
    await conn.connected;
  } catch {
    conn.socket.destroy();
    return undefined;
  }
  conn.socket.write(`GET /images/get?names=${encodeURIComponent(image)} HTTP/1.0\r\nHost: docker\r\n\r\n`);
  let settle!: (end: SaveEnd) => void;
  const exited = new Promise<SaveEnd>((resolve) => (settle = resolve));
  let said = '';
  /** What `elsewhere` started, after a 404. */
  let other: StartedSave | undefined;
  const what = `the daemon's export of ${image} (GET /images/get on unix://${path})`;
  const fail = (why: string): SaveEnd => {
    said = why;
    const end = { code: 1, signal: null };
    settle(end);
    return end;
  };

  async function* body(): AsyncGenerator<Uint8Array> {
    let head: Buffer | undefined = Buffer.alloc(0);
    let status = 0;
    let error: Buffer[] = [];
    let errorBytes = 0;
    try {
      for await (const piece of conn.pieces) {
        if (head) {
          // The head is copied out of the reused buffer until its end is seen.
          head = Buffer.concat([head, piece]);
          const end = head.indexOf('\r\n\r\n');
          if (end > MAX_HEAD_BYTES || (end < 0 && head.length > MAX_HEAD_BYTES)) throw new Error(`the reply's head is over ${MAX_HEAD_BYTES} bytes`);
          if (end < 0) continue;
          status = statusOf(head.subarray(0, end).toString('latin1'));
          const rest = head.subarray(end + 4);
          head = undefined;
          if (status === 404 && elsewhere) {
            conn.socket.destroy();
            other = await elsewhere();
            debug(`verify: the daemon at unix://${path} has no ${image} (HTTP 404); reading ${other.what}`);
            yield* other.stdout;
            settle(await other.exited);
            return;
          }
          if (status !== 200) error = [rest.subarray(0, MAX_ERROR_BYTES)];
          else if (rest.length > 0) yield rest;
          errorBytes = status === 200 ? 0 : error[0]!.length;
          continue;
        }
        if (status === 200) {
          yield piece;
        } else if (errorBytes < MAX_ERROR_BYTES) {
          const kept = Buffer.from(piece.subarray(0, MAX_ERROR_BYTES - errorBytes));
          error.push(kept);
          errorBytes += kept.length;
        }
      }
      if (head) fail('the daemon closed the connection before it answered');
      else if (status !== 200) fail(`HTTP ${status}: ${messageOf(Buffer.concat(error))}`);
      else settle({ code: 0, signal: null });
    } catch (err) {
      fail(`the connection to the daemon failed: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      throw err;
    } finally {
      conn.socket.destroy();
    }
  }

  return {
    image,
    get what() {
      return other?.what ?? what;
    },
    get socket() {
      return other ? undefined : path;
    },
    stdout: body(),
    exited,
    abort: () => {
      conn.socket.destroy();
      if (other) void other.abort().then(settle);
      else settle({ code: null, signal: 'SIGTERM' });
      return exited;
    },
    stderr: () => other?.stderr() ?? said,
    failure: (code) => other?.failure(code) ?? said,
  };
}

/** The status code of an HTTP reply's head (0 when it is not one). */
export function statusOf(head: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  return m ? Number(m[1]) : 0;
}

/** The daemon's `{"message": "…"}`, or the body's first line; printable (no C0 or C1 control), at most 300 characters. */
export function messageOf(body: Buffer): string {
  const text = body.toString('utf8');
  let message: unknown;
  try {
    message = (JSON.parse(text) as { message?: unknown }).message;
  } catch {
    message = undefined;
  }
  const line = typeof message === 'string' ? message : (text.split('\n')[0] ?? '');
  return withoutControls(line).trim().slice(0, 300) || 'no message';
}
