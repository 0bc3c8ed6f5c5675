/**
 * A child's stdout read in large pieces into one reused buffer — for a child
 * that writes hundreds of megabytes (`docker save` for verify).
 *
 * A child's stdout through `stdio: 'pipe'` arrives as a Readable of fresh
 * 32-64 KiB Buffers: for a 315 MB `docker save` about 7,000 of them, each
 * allocated, pushed through the stream machinery and collected — 230-300 ms
 * of CPU for the reading alone, on a 2-core machine where the daemon and
 * the docker client need the same cores (measured: node reading
 * `docker save`'s stdout and counting the bytes). Here the child's stdout is
 * one end of a connected Unix socket pair, and the other end is read with
 * node's `onread` (net.Socket): every read lands in the next free part of a
 * 1 MiB buffer, and the buffer is handed on when it is nearly full — no
 * allocation, ~300 hand-offs instead of 7,000, 100-110 ms of CPU.
 *
 * Node makes no socket pair, so the pair is a listener's one connection: the
 * listener lives in a directory only this user can enter (mkdtemp, 0700)
 * under the system's temporary directory, for as long as one connect takes,
 * and the directory is removed once the connection is accepted. Nothing else
 * can connect in between. When any of this fails (no temporary directory, a
 * path too long for a socket), `bulkStdout()` resolves to undefined and the
 * caller uses an ordinary pipe.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { socketPathFits } from './rundir.js';

/** The buffer each read lands in. */
const BUFFER_BYTES = 1 << 20;
/** Handed on once less than this is free (a read gets at least this much room). */
const LOW_WATER = 128 << 10;

export interface BulkStdout {
  /** Give this as the child's stdout (`stdio[1]`), then call `handedOver()`. */
  readonly childEnd: Socket;
  /** Closes this process's copy of the child's end: the reader sees the end when the child's copy closes. */
  handedOver(): void;
  /** The bytes in pieces of up to 1 MiB; a piece is overwritten once the next one is asked for. */
  readonly pieces: AsyncIterable<Uint8Array>;
  /** Stops reading (the consumer gave up). */
  destroy(): void;
}

export async function bulkStdout(): Promise<BulkStdout | undefined> {
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), 'secbuild-pipe-'));
  } catch {
    return undefined;
  }
  const path = join(dir, 's');
  const server = createServer();
  let reader: Socket | undefined;
  try {
    if (!socketPathFits(path)) return undefined;
    const accepted = new Promise<Socket>((resolve, reject) => {
      server.once('connection', resolve);
      server.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    const conn = bulkConnect(path);
    reader = conn.socket;
    const childEnd = await accepted;
    return {
      childEnd,
      handedOver: () => childEnd.destroy(),
      pieces: conn.pieces,
      destroy: () => {
        childEnd.destroy();
        reader?.destroy();
      },
    };
  } catch {
    reader?.destroy();
    return undefined;
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A Unix socket at `path` read the same way: for a server that writes the
 * bytes itself (the docker daemon's API, src/verify/api-save.ts). `connected`
 * rejects when nothing accepts at `path`; `pieces` then ends at once.
 */
export function bulkConnect(path: string): { socket: Socket; connected: Promise<void>; pieces: AsyncIterable<Uint8Array> } {
  const state = newState();
  const socket = connect({ path, onread: { buffer: () => state.next(), callback: (n) => state.read(n) } });
  state.socket = socket;
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  connected.catch(() => {});
  socket.on('end', () => state.finish());
  socket.on('error', (err) => state.finish(err));
  socket.on('close', () => state.finish());
  return { socket, connected, pieces: state.pieces() };
}

function newState() {
  const state = {
    big: Buffer.allocUnsafe(BUFFER_BYTES),
    filled: 0,
    paused: false,
    ended: false,
    error: undefined as Error | undefined,
    wake: undefined as (() => void) | undefined,
    socket: undefined as Socket | undefined,
    /**
     * Where the next read lands. Node asks right after each read's callback,
     * also after one that paused: the read after the pause lands at the
     * start, as the consumer has taken the piece before reading resumes.
     */
    next(): Buffer {
      return state.paused ? state.big : state.big.subarray(state.filled);
    },
    /** A read of `n` bytes landed at `filled`; false pauses reading (node's onread) until the consumer takes the piece. */
    read(n: number): boolean {
      state.filled += n;
      if (state.big.length - state.filled >= LOW_WATER) return true;
      state.paused = true;
      state.poke();
      return false;
    },
    finish(err?: Error) {
      if (err && !state.error) state.error = err;
      state.ended = true;
      state.poke();
    },
    poke() {
      const wake = state.wake;
      state.wake = undefined;
      wake?.();
    },
    async *pieces(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          while (!state.ended && !state.paused) await new Promise<void>((resolve) => (state.wake = resolve));
          if (state.error) throw state.error;
          if (state.filled > 0) yield state.big.subarray(0, state.filled);
          if (state.ended) return;
          state.filled = 0;
          state.paused = false;
          state.socket?.resume();
        }
      } finally {
        state.socket?.destroy();
      }
    },
  };
  return state;
}
