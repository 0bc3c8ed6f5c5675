/**
 * Decompressing a blob of an image archive on the fly (gzip, zstd) into the
 * sink that searches what comes out (src/verify/layers.ts `blobSink`).
 */
import type { Transform } from 'node:stream';
import type { EntrySink } from './tarwalk.js';

export type Decoder = () => Transform;

/** The decompressor closed while it was being written (its own error, if any, says why). */
class SinkClosed extends Error {
  constructor() {
    super('the stream closed while being written');
  }
}

/**
 * A compressed blob: its chunks (copied: the decompressor works on them after
 * the call) go through a zlib stream whose output feeds a blob sink of its
 * own; `data` waits while the stream is full, and the stream pauses while
 * that sink waits.
 */
export class Decompress implements EntrySink {
  readonly #stream: Transform;
  readonly #inner: EntrySink;
  readonly #ended: Promise<void>;
  #waiting: Promise<void> | undefined;
  #failed: { error: unknown } | undefined;

  constructor(private readonly blob: string, stream: Transform, private readonly what: string, inner: EntrySink) {
    this.#stream = stream;
    this.#inner = inner;
    stream.on('data', (out: Buffer) => {
      if (this.#failed) return;
      try {
        const wait = this.#inner.data(out);
        if (wait) {
          stream.pause();
          this.#waiting = wait.then(() => {
            this.#waiting = undefined;
            stream.resume();
          }, (err: unknown) => this.#fail(err));
        }
      } catch (err) {
        this.#fail(err);
      }
    });
    this.#ended = new Promise((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
      stream.on('close', () => reject(new SinkClosed()));
    });
    this.#ended.catch(() => {});
  }

  #fail(error: unknown): void {
    this.#failed ??= { error };
    this.#stream.destroy();
  }

  data(chunk: Uint8Array): void | Promise<void> {
    if (this.#failed) throw this.#failed.error;
    if (this.#stream.destroyed) throw this.#error(new SinkClosed());
    if (!this.#stream.write(Buffer.from(chunk))) return this.#drained();
  }

  #drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#stream.destroyed) return reject(this.#error(new SinkClosed()));
      const off = () => {
        this.#stream.off('drain', onDrain);
        this.#stream.off('close', onClose);
      };
      const onDrain = () => (off(), resolve());
      const onClose = () => (off(), reject(this.#error(new SinkClosed())));
      this.#stream.on('drain', onDrain);
      this.#stream.on('close', onClose);
    });
  }

  async end(): Promise<void> {
    this.#stream.end();
    try {
      await this.#ended;
    } catch (err) {
      throw this.#error(err);
    }
    while (this.#waiting) await this.#waiting;
    if (this.#failed) throw this.#failed.error;
    await this.#inner.end();
  }

  /** What went wrong: the inner sink's own error first, else the decompressor's, as "corrupt". */
  #error(err: unknown): unknown {
    if (this.#failed) return this.#failed.error;
    const zerr = this.#streamError ?? err;
    if ((zerr as NodeJS.ErrnoException).code?.startsWith('Z_')) return new Error(`${this.blob}: the ${this.what} data is corrupt (${(zerr as Error).message})`, { cause: zerr });
    return zerr;
  }

  get #streamError(): unknown {
    return (this.#stream as unknown as { errored?: unknown }).errored ?? undefined;
  }
}

