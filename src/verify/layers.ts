/**
 * Searching one blob of an image archive, whatever it turns out to be.
 *
 * A blob is sniffed (src/verify/sniff.ts) from its first bytes and then:
 * - gzip (or zstd, where this Node.js has a zstd decoder): decompressed on
 *   the fly and sniffed again;
 * - a tar: a layer. It is walked as it streams in (src/verify/tarwalk.ts)
 *   and every entry is searched: its name, link target and PAX records, and
 *   its content as one stream with its own scanner, so a match may straddle
 *   chunks but never two files;
 * - small JSON (configs, manifests, v1 layer json): parsed and searched
 *   string by string, each hit named by its field path (`config.Env[2]`);
 * - anything else: searched as raw bytes.
 *
 * Each is an EntrySink: fed synchronously, chunk by chunk, by the tar walker
 * of the archive (or by a decompressor); a chunk is valid only during the
 * call, so a sink copies what it keeps. Nothing is buffered beyond one sniff
 * block and the JSON documents (at most JSON_MAX_BYTES each): memory stays
 * bounded whatever the image size.
 */
import type { Transform } from 'node:stream';
import { walkJson } from './json.js';
import type { Place, Search } from './search.js';
import { SNIFF_BYTES, sniff } from './sniff.js';
import { TarFormatError, TarWalker, type EntrySink } from './tarwalk.js';

/** JSON blobs up to this size are parsed (image configs are a few KiB; the largest seen are ~1 MiB). */
export const JSON_MAX_BYTES = 16 << 20;
/** Parsed documents kept for the archive layout, in total. */
const JSON_KEEP_BYTES = 64 << 20;

export interface ScanStats {
  /** Bytes read from the archive stream. */
  archiveBytes: number;
  /** Bytes of layer tar data searched (after decompression). */
  layerBytes: number;
  /** Archive paths of the blobs searched as layers, in archive order. */
  layers: string[];
  /** Layers searched to their end (for progress lines). */
  layersDone: number;
  /** Entries (files, directories, links) in those layers. */
  files: number;
  /** JSON documents searched field by field. */
  jsonFiles: number;
  /** Blobs whose content could not be searched, with why. */
  unreadable: Array<{ blob: string; reason: string }>;
}

export interface ScanContext {
  search: Search;
  /** node:zlib, for compressed blobs (loadZlib()). */
  zlib: Zlib;
  stats: ScanStats;
  /** Parsed JSON documents by archive path (for the layout: manifest.json, index.json, configs). */
  json: Map<string, unknown>;
  jsonKept: number;
}

export function newStats(): ScanStats {
  return { archiveBytes: 0, layerBytes: 0, layers: [], layersDone: 0, files: 0, jsonFiles: 0, unreadable: [] };
}

type Decoder = () => Transform;

/** The decompressor closed while it was being written (its own error, if any, says why). */
class SinkClosed extends Error {
  constructor() {
    super('the stream closed while being written');
  }
}

type Zlib = typeof import('node:zlib');
/** node:zlib, imported when a scan starts: a build without --verify never loads it. */
let zlibModule: Zlib | undefined;
export const loadZlib = async (): Promise<Zlib> => (zlibModule ??= await import('node:zlib'));

function zstdDecoder(zlib: Zlib): Decoder | undefined {
  const make = (zlib as unknown as { createZstdDecompress?: Decoder }).createZstdDecompress;
  return typeof make === 'function' ? () => make() : undefined;
}

/** A sink that searches one blob (`size` is known for archive entries, undefined for a decompressed stream). */
export function blobSink(ctx: ScanContext, blob: string, size: number | undefined, depth = 0): EntrySink {
  return new Sniffer((head) => {
    const kind = depth < 2 ? sniff(head) : 'other';
    if (kind === 'gzip') return new Decompress(ctx, blob, () => ctx.zlib.createGunzip(), 'gzip', depth);
    if (kind === 'zstd') {
      const zstd = zstdDecoder(ctx.zlib);
      if (zstd) return new Decompress(ctx, blob, zstd, 'zstd', depth);
      ctx.stats.unreadable.push({ blob, reason: `it is zstd-compressed and Node.js ${process.version} has no zstd decoder (Node.js 22.15 or later has one)` });
      return rawSink(ctx, blob);
    }
    if (kind === 'tar') return layerSink(ctx, blob);
    if (kind === 'json' && size !== undefined && size <= JSON_MAX_BYTES) return jsonSink(ctx, blob);
    return rawSink(ctx, blob);
  });
}

/** Holds back the first SNIFF_BYTES (copied only when they come in pieces), then hands everything to the sink they choose. */
class Sniffer implements EntrySink {
  #head: Buffer | undefined;
  #sink: EntrySink | undefined;
  constructor(private readonly choose: (head: Uint8Array) => EntrySink) {}

  data(chunk: Uint8Array): void | Promise<void> {
    if (this.#sink) return this.#sink.data(chunk);
    if (!this.#head && chunk.length >= SNIFF_BYTES) {
      this.#sink = this.choose(chunk);
      return this.#sink.data(chunk);
    }
    this.#head = this.#head ? Buffer.concat([this.#head, chunk]) : Buffer.from(chunk);
    if (this.#head.length >= SNIFF_BYTES) return this.#flush();
  }

  end(): void | Promise<void> {
    if (this.#sink) return this.#sink.end();
    this.#head ??= Buffer.alloc(0);
    const wait = this.#flush();
    return wait ? wait.then(() => this.#sink!.end()) : this.#sink!.end();
  }

  #flush(): void | Promise<void> {
    const head = this.#head!;
    this.#head = undefined;
    this.#sink = this.choose(head);
    return head.length > 0 ? this.#sink.data(head) : undefined;
  }
}

/**
 * A compressed blob: its chunks (copied: the decompressor works on them after
 * the call) go through a zlib stream whose output feeds a blob sink of its
 * own; `data` waits while the stream is full, and the stream pauses while
 * that sink waits.
 */
class Decompress implements EntrySink {
  readonly #stream: Transform;
  readonly #inner: EntrySink;
  readonly #ended: Promise<void>;
  #waiting: Promise<void> | undefined;
  #failed: { error: unknown } | undefined;

  constructor(ctx: ScanContext, private readonly blob: string, make: Decoder, private readonly what: string, depth: number) {
    const stream = (this.#stream = make());
    this.#inner = blobSink(ctx, blob, undefined, depth + 1);
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

function rawSink(ctx: ScanContext, blob: string): EntrySink {
  const s = ctx.search.stream(() => ({ kind: 'blob', blob }));
  return { data: (chunk) => s.feed(chunk), end: () => s.end() };
}

function jsonSink(ctx: ScanContext, blob: string): EntrySink {
  const parts: Buffer[] = [];
  return { data: (chunk) => void parts.push(Buffer.from(chunk)), end: () => scanJson(ctx, blob, Buffer.concat(parts)) };
}

function scanJson(ctx: ScanContext, blob: string, data: Buffer): void {
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch {
    ctx.search.bytes(data, () => ({ kind: 'blob', blob }));
    return;
  }
  ctx.stats.jsonFiles++;
  if (ctx.jsonKept + data.length <= JSON_KEEP_BYTES) {
    ctx.json.set(blob, doc);
    ctx.jsonKept += data.length;
  }
  // Decoded strings, not the raw text: a value with `&`, `<` or `>` is stored as \u0026… by Go's encoder.
  walkJson(doc, (field, text) => ctx.search.bytes(Buffer.from(text, 'utf8'), () => ({ kind: 'json', blob, field })));
}

/** A layer: every entry's name, link target, PAX records and content, each its own stream. */
function layerSink(ctx: ScanContext, blob: string): EntrySink {
  const { search, stats } = ctx;
  stats.layers.push(blob);
  const walker = new TarWalker((header) => {
    stats.files++;
    const path = displayPath(header.name);
    const at = (part: 'content' | 'name' | 'linkname' | 'pax') => (): Place => ({ kind: 'layer', blob, path, part });
    search.bytes(header.nameBytes, at('name'));
    if (header.linkBytes) search.bytes(header.linkBytes, at('linkname'));
    for (const [key, value] of header.pax ?? []) {
      if (key === 'path' || key === 'linkpath') continue;
      search.bytes(Buffer.from(key, 'utf8'), at('pax'));
      search.bytes(value, at('pax'));
    }
    if (header.size === 0) return undefined;
    const content = search.stream(at('content'));
    return { data: (chunk) => content.feed(chunk), end: () => content.end() };
  });
  const invalid = (err: unknown) => (err instanceof TarFormatError ? new Error(`${blob}: the layer is not a valid tar archive (${err.message})`, { cause: err }) : err);
  return {
    data(chunk) {
      stats.layerBytes += chunk.length;
      try {
        const wait = walker.feed(chunk);
        if (wait) return wait.catch((err: unknown) => Promise.reject(invalid(err)));
      } catch (err) {
        throw invalid(err);
      }
    },
    end() {
      try {
        walker.end();
      } catch (err) {
        throw invalid(err);
      }
      stats.layersDone++;
    },
  };
}

/** A tar entry name as a path in the image: `./etc/x` → `/etc/x`. */
export function displayPath(name: string): string {
  const trimmed = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  return `/${trimmed}`;
}
