/**
 * Stream plumbing for the image scan: the lazily loaded tar parser, a pump
 * that writes an async source into a writable with backpressure, and a peek
 * that reads a blob's first bytes without losing them.
 *
 * tar-stream's extractor is a streamx Writable: it has `write`/`end`, the
 * 'drain'/'error'/'close' events and async iteration of entries, but not
 * everything Node's `stream.pipeline` looks for — so it is fed by `pump()`.
 */
// Listeners are typed `any[]` so that Node streams and streamx streams both fit.

/** What pump() needs of a writable: Node streams and streamx streams both have it. */
export interface Sink {
  write(chunk: Uint8Array): boolean;
  end(): unknown;
  destroy(err?: Error): unknown;
  on(event: string, fn: (...args: any[]) => void): unknown;
  off(event: string, fn: (...args: any[]) => void): unknown;
}

/** The parts of tar-stream 3 used here (its own typings leave out the extractor's options). */
export interface TarHeader {
  name: string;
  size?: number;
  type?: string | null;
  linkname?: string | null;
  pax?: Record<string, string> | null;
}

export interface TarEntry extends AsyncIterable<Uint8Array> {
  header: TarHeader;
  on(event: string, fn: (...args: any[]) => void): unknown;
}

export interface TarExtract extends Sink, AsyncIterable<TarEntry> {}

export interface TarModule {
  extract(opts?: { allowUnknownFormat?: boolean; filenameEncoding?: BufferEncoding }): TarExtract;
}

let tarModule: Promise<TarModule> | undefined;

/** tar-stream, loaded on first use (the bundle keeps it external; see scripts/build.mjs). */
export function loadTar(): Promise<TarModule> {
  tarModule ??= import('tar-stream').then((mod) => ((mod as { default?: unknown }).default ?? mod) as TarModule);
  return tarModule;
}

/**
 * Writes every chunk of `source` to `sink`, waiting for 'drain' when it asks,
 * then ends it. A failing source destroys the sink; a sink that closes early
 * makes the pump reject (the sink's own error surfaces where it is read).
 */
export async function pump(source: AsyncIterable<Uint8Array>, sink: Sink, onChunk?: (n: number) => void): Promise<void> {
  try {
    for await (const chunk of source) {
      onChunk?.(chunk.length);
      if (!sink.write(chunk)) await drained(sink);
    }
    sink.end();
  } catch (err) {
    sink.destroy(err as Error);
    throw err;
  }
}

/** pump() was writing when the sink closed: the sink's own error (if any) says why. */
export class SinkClosed extends Error {
  constructor() {
    super('the stream closed while being written');
  }
}

function drained(sink: Sink): Promise<void> {
  return new Promise((resolve, reject) => {
    const off = () => {
      sink.off('drain', onDrain);
      sink.off('error', onError);
      sink.off('close', onClose);
    };
    const onDrain = () => (off(), resolve());
    const onError = (err: unknown) => (off(), reject(err));
    const onClose = () => (off(), reject(new SinkClosed()));
    sink.on('drain', onDrain);
    sink.on('error', onError);
    sink.on('close', onClose);
  });
}

/** Resolves when `sink` has finished (all written and processed), rejects on its error. */
export function finished(sink: Sink): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: unknown;
    let ended = false;
    sink.on('error', (err) => {
      failed ??= err;
    });
    sink.on('finish', () => {
      ended = true;
      resolve();
    });
    sink.on('close', () => (failed || !ended ? reject(failed ?? new Error('closed before the end of the data')) : resolve()));
  });
}

/**
 * Reads at least `n` bytes (fewer at the end of the stream) and returns them
 * with a source that yields them again followed by the rest.
 */
export async function peek(source: AsyncIterable<Uint8Array>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let have = 0;
  let done = false;
  while (have < n) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    chunks.push(r.value);
    have += r.value.length;
  }
  const head = chunks.length === 1 ? Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.length) : Buffer.concat(chunks);
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (head.length > 0) yield head;
    if (done) return;
    let ended = false;
    try {
      for (;;) {
        const r = await it.next();
        if ((ended = Boolean(r.done))) return;
        yield r.value;
      }
    } finally {
      // Only when the reader stopped early: returning a finished tar entry would destroy its parent.
      if (!ended) await it.return?.();
    }
  }
  return { head, rest: rest() };
}

/** Reads a whole (small) source into one buffer. */
export async function readAll(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of source) chunks.push(c);
  return Buffer.concat(chunks);
}
