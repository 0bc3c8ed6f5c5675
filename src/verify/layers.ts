/**
 * Searching one blob of an image archive, whatever it turns out to be.
 *
 * A blob is sniffed (src/verify/sniff.ts) and then:
 * - gzip (or zstd, where this Node.js has a zstd decoder): decompressed on
 *   the fly and sniffed again;
 * - a tar: a layer. It is parsed as it streams in (a nested tar-stream
 *   extractor fed from the outer entry) and every entry is searched: its
 *   name, link target and PAX records, and its content as one stream with
 *   its own scanner, so a match may straddle chunks but never two files;
 * - small JSON (configs, manifests, v1 layer json): parsed and searched
 *   string by string, each hit named by its field path (`config.Env[2]`);
 * - anything else: searched as raw bytes.
 *
 * Nothing is buffered beyond the JSON documents (at most JSON_MAX_BYTES
 * each): memory stays bounded by the streams' high-water marks whatever
 * the image size.
 */
import type { Transform } from 'node:stream';
import { walkJson } from './json.js';
import type { Place, Search } from './search.js';
import { SNIFF_BYTES, sniff } from './sniff.js';
import { finished, peek, pump, readAll, SinkClosed, type TarEntry, type TarHeader, type TarModule } from './streams.js';

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
  tar: TarModule;
  stats: ScanStats;
  /** Parsed JSON documents by archive path (for the layout: manifest.json, index.json, configs). */
  json: Map<string, unknown>;
  jsonKept: number;
}

export function newStats(): ScanStats {
  return { archiveBytes: 0, layerBytes: 0, layers: [], layersDone: 0, files: 0, jsonFiles: 0, unreadable: [] };
}

type Decoder = () => Transform;

type Zlib = typeof import('node:zlib');
/** node:zlib, imported on first use: a build without --verify never loads it. */
let zlibModule: Zlib | undefined;
const loadZlib = async (): Promise<Zlib> => (zlibModule ??= await import('node:zlib'));

function zstdDecoder(zlib: Zlib): Decoder | undefined {
  const make = (zlib as unknown as { createZstdDecompress?: Decoder }).createZstdDecompress;
  return typeof make === 'function' ? () => make() : undefined;
}

/**
 * Searches one blob (`size` is known for archive entries, undefined for a
 * decompressed stream). Consumes `source` to its end.
 */
export async function scanBlob(ctx: ScanContext, blob: string, size: number | undefined, source: AsyncIterable<Uint8Array>, depth = 0): Promise<void> {
  const { head, rest } = await peek(source, SNIFF_BYTES);
  const kind = depth < 2 ? sniff(head) : 'other';
  const zlib = kind === 'gzip' || kind === 'zstd' ? await loadZlib() : undefined;
  if (kind === 'gzip') return scanDecompressed(ctx, blob, rest, () => zlib!.createGunzip(), 'gzip', depth);
  if (kind === 'zstd') {
    const zstd = zstdDecoder(zlib!);
    if (zstd) return scanDecompressed(ctx, blob, rest, zstd, 'zstd', depth);
    ctx.stats.unreadable.push({ blob, reason: `it is zstd-compressed and Node.js ${process.version} has no zstd decoder (Node.js 22.15 or later has one)` });
    return scanRaw(ctx, blob, rest);
  }
  if (kind === 'tar') return scanLayer(ctx, blob, rest);
  if (kind === 'json' && size !== undefined && size <= JSON_MAX_BYTES) return scanJson(ctx, blob, await readAll(rest));
  return scanRaw(ctx, blob, rest);
}

async function scanDecompressed(ctx: ScanContext, blob: string, source: AsyncIterable<Uint8Array>, decoder: Decoder, what: string, depth: number): Promise<void> {
  const inflate = decoder();
  const feeding = pump(source, inflate);
  feeding.catch(() => {});
  try {
    await scanBlob(ctx, blob, undefined, inflate, depth + 1);
  } catch (err) {
    inflate.destroy();
    if ((err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new Error(`${blob}: the ${what} data is corrupt (${(err as Error).message})`, { cause: err });
    throw err;
  }
  await feeding;
}

async function scanRaw(ctx: ScanContext, blob: string, source: AsyncIterable<Uint8Array>): Promise<void> {
  const s = ctx.search.stream(() => ({ kind: 'blob', blob }));
  for await (const chunk of source) s.feed(chunk);
  s.end();
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
async function scanLayer(ctx: ScanContext, blob: string, source: AsyncIterable<Uint8Array>): Promise<void> {
  const { search, stats } = ctx;
  stats.layers.push(blob);
  // latin1 keeps a name's bytes exact (one char per byte) when it is not valid UTF-8.
  const extract = ctx.tar.extract({ allowUnknownFormat: true, filenameEncoding: 'latin1' });
  const done = finished(extract);
  done.catch(() => {});
  extract.on('entry', (header: TarHeader, stream: TarEntry, next: (err?: Error | null) => void) => {
    try {
      stats.files++;
      const fromPax = Boolean(header.pax?.path);
      const nameBytes = Buffer.from(header.name, fromPax ? 'utf8' : 'latin1');
      const path = displayPath(nameBytes.toString('utf8'));
      const at = (part: 'content' | 'name' | 'linkname' | 'pax') => (): Place => ({ kind: 'layer', blob, path, part });
      search.bytes(nameBytes, at('name'));
      if (header.linkname) search.bytes(Buffer.from(header.linkname, header.pax?.linkpath ? 'utf8' : 'latin1'), at('linkname'));
      for (const [key, value] of Object.entries(header.pax ?? {})) {
        if (key !== 'path' && key !== 'linkpath') search.bytes(Buffer.from(String(value), 'utf8'), at('pax'));
      }
      const content = search.stream(at('content'));
      stream.on('data', (chunk: Uint8Array) => content.feed(chunk));
      stream.on('end', () => {
        content.end();
        next();
      });
      // An entry fails only with its extractor, whose error `done` reports.
      stream.on('error', () => {});
    } catch (err) {
      extract.destroy(err as Error);
    }
  });
  const fed = await pump(source, extract, (n) => (stats.layerBytes += n)).then(() => undefined, (err: unknown) => err);
  // A failing source (corrupt gzip, the archive cut short) is the cause; the extractor closing early is not.
  if (fed !== undefined && !(fed instanceof SinkClosed)) throw fed;
  try {
    await done;
  } catch (err) {
    throw new Error(`${blob}: the layer is not a valid tar archive (${(err as Error).message})`, { cause: err });
  }
  stats.layersDone++;
}

/** A tar entry name as a path in the image: `./etc/x` → `/etc/x`. */
export function displayPath(name: string): string {
  const trimmed = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  return `/${trimmed}`;
}
