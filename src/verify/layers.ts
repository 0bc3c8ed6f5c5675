/**
 * Searching one blob of an image archive, whatever it turns out to be.
 *
 * Every byte of the archive is searched as it is, by the archive's own
 * lane (src/verify/lane.ts, in src/verify/save.ts): what a blob's sink adds
 * is what raw bytes cannot show, and the names that say where a match is.
 * A blob is sniffed (src/verify/sniff.ts) from its first bytes and then:
 * - gzip (or zstd, where this Node.js has a zstd decoder): decompressed on
 *   the fly and sniffed again; decompressed bytes have a lane of their own;
 * - a tar: a layer. It is walked as it streams in (src/verify/tarwalk.ts),
 *   which places each match of the lane that scans its bytes (the archive's
 *   for a plain layer, its own for a compressed one) in an entry's header,
 *   content or padding, or the layer's end; each entry's name, link target
 *   and PAX records are searched as well, as the walker reads them (a name
 *   joined from ustar's prefix and name is not contiguous in the bytes);
 * - small JSON (configs, manifests, v1 layer json): parsed and searched
 *   string by string, each hit named by its field path (`config.Env[2]`);
 * - anything else: its bytes are the lane's alone.
 *
 * Each is an EntrySink: fed synchronously, chunk by chunk, by the tar walker
 * of the archive (or by a decompressor); a chunk is valid only during the
 * call, so a sink copies what it keeps. Nothing is buffered beyond one sniff
 * block and the JSON documents (at most JSON_MAX_BYTES each): memory stays
 * bounded whatever the image size.
 */
import { Decompress, type Decoder } from './decompress.js';
import { walkJson } from './json.js';
import { ByteLane, SpanLog, type Locator } from './lane.js';
import type { LayerPart, Place, Search } from './search.js';
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

type Zlib = typeof import('node:zlib');
/** node:zlib, imported when a scan starts: a build without --verify never loads it. */
let zlibModule: Zlib | undefined;
export const loadZlib = async (): Promise<Zlib> => (zlibModule ??= await import('node:zlib'));

function zstdDecoder(zlib: Zlib): Decoder | undefined {
  const make = (zlib as unknown as { createZstdDecompress?: Decoder }).createZstdDecompress;
  return typeof make === 'function' ? () => make() : undefined;
}

/**
 * A sink that searches one blob: an entry of the archive (depth 0: `size`
 * known, its bytes scanned by the archive's lane) or a decompressed stream
 * (`size` undefined, scanned here). As a Locator it names where in the blob
 * an offset of its bytes lies. `covered` false: no archive lane reads this
 * blob's bytes (a file of a build's output, src/verify/output.ts), so they
 * are scanned here too.
 */
export function blobSink(ctx: ScanContext, blob: string, size: number | undefined, depth = 0, covered = depth === 0): EntrySink & Locator {
  return new Sniffer(blob, (head) => {
    const kind = depth < 2 ? sniff(head) : 'other';
    const inner = () => blobSink(ctx, blob, undefined, depth + 1);
    if (kind === 'gzip') return new Decompress(blob, ctx.zlib.createGunzip(), 'gzip', inner());
    if (kind === 'zstd') {
      const zstd = zstdDecoder(ctx.zlib);
      if (zstd) return new Decompress(blob, zstd(), 'zstd', inner());
      ctx.stats.unreadable.push({ blob, reason: `it is zstd-compressed and Node.js ${process.version} has no zstd decoder (Node.js 22.15 or later has one)` });
      return rawSink(ctx, blob, covered);
    }
    if (kind === 'tar') return layerSink(ctx, blob, covered);
    if (kind === 'json' && covered && size! <= JSON_MAX_BYTES) return jsonSink(ctx, blob);
    return rawSink(ctx, blob, covered);
  });
}

/** Holds back the first SNIFF_BYTES (copied only when they come in pieces), then hands everything to the sink they choose. */
class Sniffer implements EntrySink, Locator {
  #head: Buffer | undefined;
  #sink: (EntrySink & Partial<Locator>) | undefined;
  constructor(
    private readonly blob: string,
    private readonly choose: (head: Uint8Array) => EntrySink & Partial<Locator>,
  ) {}

  /** Where a byte of the blob lies: in a layer's entry, or just in the blob; undefined before the blob was sniffed. */
  locate(offset: number): Place | undefined {
    if (!this.#sink) return undefined;
    return this.#sink.locate ? this.#sink.locate(offset) : { kind: 'blob', blob: this.blob };
  }

  forget(offset: number): void {
    this.#sink?.forget?.(offset);
  }

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

/** Bytes that are neither a layer nor JSON: the archive's lane searches an entry's (`covered`); a decompressed stream is searched here. */
function rawSink(ctx: ScanContext, blob: string, covered: boolean): EntrySink {
  if (covered) return { data() {}, end() {} };
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
    return; // its bytes are the archive lane's, as any other blob's
  }
  ctx.stats.jsonFiles++;
  if (ctx.jsonKept + data.length <= JSON_KEEP_BYTES) {
    ctx.json.set(blob, doc);
    ctx.jsonKept += data.length;
  }
  // Decoded strings, not the raw text: a value with `&`, `<` or `>` is stored as \u0026… by Go's encoder.
  walkJson(doc, (field, text) => ctx.search.bytes(Buffer.from(text, 'utf8'), () => ({ kind: 'json', blob, field })));
}

/**
 * A layer: its walker places every match of the lane that scans its bytes —
 * its own when `covered` is false (a decompressed layer), else the
 * archive's, which asks `locate()` — and each entry's name, link target and
 * PAX records are searched as the walker reads them.
 */
function layerSink(ctx: ScanContext, blob: string, covered: boolean): EntrySink & Locator {
  const { search, stats } = ctx;
  stats.layers.push(blob);
  const end: Place = { kind: 'layer', blob, path: '', part: 'end' };
  const log = new SpanLog((span, region) => (span.header && region !== 'end' ? { kind: 'layer', blob, path: displayPath(span.header.name), part: region } : end));
  const walker = new TarWalker((header) => {
    stats.files++;
    const path = displayPath(header.name);
    const at = (part: LayerPart) => (): Place => ({ kind: 'layer', blob, path, part });
    search.bytes(header.nameBytes, at('name'));
    if (header.linkBytes) search.bytes(header.linkBytes, at('linkname'));
    for (const [key, value] of header.pax ?? []) {
      if (key === 'path' || key === 'linkpath') continue;
      search.bytes(Buffer.from(key, 'utf8'), at('pax'));
      search.bytes(value, at('pax'));
    }
    return undefined; // the content is the lane's
  }, (span) => log.add(span));
  const lane = covered ? undefined : new ByteLane(search, log, end);
  const invalid = (err: unknown) => (err instanceof TarFormatError ? new Error(`${blob}: the layer is not a valid tar archive (${err.message})`, { cause: err }) : err);
  return {
    data(chunk) {
      stats.layerBytes += chunk.length;
      try {
        // No entry has a sink: the walk never waits.
        void walker.feed(chunk);
      } catch (err) {
        throw invalid(err);
      }
      lane?.feed(chunk);
    },
    end() {
      try {
        walker.end();
      } catch (err) {
        throw invalid(err);
      }
      log.close();
      lane?.end();
      stats.layersDone++;
    },
    locate: (offset) => log.locate(offset),
    forget: (offset) => log.forget(offset),
  };
}

/** A tar entry name as a path in the image: `./etc/x` → `/etc/x`. */
export function displayPath(name: string): string {
  const trimmed = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  return `/${trimmed}`;
}
