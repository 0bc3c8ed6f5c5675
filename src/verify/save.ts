/**
 * Streaming an image archive: `docker save IMAGE` piped straight into a tar
 * walker (src/verify/tarwalk.ts), never to disk. Every byte of the archive —
 * its own headers, padding and end blocks as much as the blobs — goes
 * through one search lane (src/verify/lane.ts); the walker says where each
 * match lies. Each entry of the outer tar is fed to a blob sink as it
 * streams by (a layer is itself walked by a nested walker fed from the
 * entry, which names the file a match is in), so memory does not grow with
 * the image. Symlinks between entries (Docker layout: a repeated layer) are
 * recorded for the layout; other entries without content are only searched
 * as bytes.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from '../util/errors.js';
import type { ChildEnv } from '../run/env.js';
import { bulkStdout } from '../run/bulk-stdout.js';
import { start, waitForExit } from '../run/exec.js';
import { debug } from '../util/log.js';
import { startApiSave } from './api-save.js';
import { ByteLane, SpanLog, type Locator } from './lane.js';
import { blobSink, loadZlib, newStats, type ScanContext, type ScanStats } from './layers.js';
import { readLayout, type Layout } from './layout.js';
import type { Place, Search } from './search.js';
import { TarFormatError, TarWalker, type EntrySink } from './tarwalk.js';

export interface ArchiveScan {
  stats: ScanStats;
  layout: Layout;
}

const normalize = (name: string) => posix.normalize(name.replace(/^(\.\/)+/, '')).replace(/\/+$/, '');

/**
 * Searches an image archive (`docker save` output, either layout) read from
 * `source`. A chunk of `source` may be reused by its producer once the next
 * one is asked for: nothing here keeps one.
 */
export async function scanArchive(source: AsyncIterable<Uint8Array>, search: Search, stats: ScanStats = newStats()): Promise<ArchiveScan> {
  const ctx: ScanContext = { search, zlib: await loadZlib(), stats, json: new Map(), jsonKept: 0 };
  const links = new Map<string, string>();
  const end: Place = { kind: 'archive', blob: '', part: 'end' };
  const log = new SpanLog((span, region, offset) => {
    if (!span.header || region === 'end') return end;
    // A blob's sink names where in it a byte lies (a layer: the file), once it has seen enough of it.
    const sink = span.sink as (EntrySink & Partial<Locator>) | undefined;
    if (region === 'content' && sink?.locate) return sink.locate(offset);
    const blob = normalize(span.header.name);
    return region === 'content' ? { kind: 'blob', blob } : { kind: 'archive', blob, part: region };
  }, true);
  const walker = new TarWalker((h) => {
    const name = normalize(h.name);
    if ((h.type === 'symlink' || h.type === 'link') && h.linkname) {
      links.set(name, h.type === 'link' ? normalize(h.linkname) : normalize(posix.join(posix.dirname(name), h.linkname)));
      return undefined;
    }
    return h.type === 'file' || h.type === 'contiguous-file' ? blobSink(ctx, name, h.size) : undefined;
  }, (span) => log.add(span));
  const lane = new ByteLane(search, log, end);
  try {
    for await (const chunk of source) {
      stats.archiveBytes += chunk.length;
      const wait = walker.feed(chunk);
      if (wait) await wait;
      // After the walk: the spans (and a layer's own) cover the chunk, so most matches are placed at once.
      lane.feed(chunk);
    }
    walker.end();
    log.close();
    lane.end();
  } catch (err) {
    if (err instanceof TarFormatError) throw new Error(`the archive is not a valid tar (${err.message})`, { cause: err });
    throw err;
  }
  return { stats: ctx.stats, layout: readLayout(ctx.json, links) };
}

/**
 * Why a scan cannot vouch for the image, or undefined when it read a whole
 * one: it read no bytes (docker printed nothing, or nothing was read), found
 * no image config, or fewer layer blobs than the manifest lists (a truncated
 * archive). Such a scan is an error, never "clean".
 */
export function incompleteScan(scan: ArchiveScan): string | undefined {
  if (scan.stats.archiveBytes === 0) return 'it held no bytes (docker save printed nothing)';
  if (scan.layout.configs.size === 0) return 'the archive holds no image config (no manifest.json or index.json naming one)';
  const searched = new Set(scan.stats.layers);
  const missing = [...scan.layout.layers.keys()].filter((p) => !searched.has(p)).length;
  if (missing > 0) return `the archive lacks ${missing} of the ${scan.layout.layers.size} layer blobs its manifest lists (it was cut short)`;
  return undefined;
}

/** Keeps the last `max` bytes of a stream (docker's error message, without growing). */
function tail(stream: Readable, max = 8192): () => string {
  let kept = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    kept = Buffer.concat([kept, chunk]);
    if (kept.length > max) kept = kept.subarray(kept.length - max);
  });
  return () => kept.toString('utf8').trim();
}

/** How a save ended: a child's exit, or the daemon's reply for a read from its socket (./api-save.ts). */
export type SaveEnd = Awaited<ReturnType<typeof waitForExit>>;

/**
 * A `docker save` (or the engine's `save` argv: podman), or the daemon's
 * export read from its socket (./api-save.ts), that is running;
 * `scanStartedSave()` reads it.
 */
export interface StartedSave {
  readonly image: string;
  /** For messages: "`docker save app`", or the daemon's export read from its socket. */
  readonly what: string;
  /** The daemon socket the archive came from (./api-save.ts), when it did; undefined for a child's stdout. */
  readonly socket?: string;
  /** The archive: 1 MiB pieces of one reused buffer (../run/bulk-stdout.ts), or the pipe's chunks. */
  readonly stdout: AsyncIterable<Uint8Array>;
  /**
   * Ends a save that will not be read (or no longer): kills it and discards
   * its unread stdout, then waits for it to exit. The only way to stop one:
   * waiting for `exited` alone never ends while a full pipe, or bytes
   * buffered in `stdout`, are left unread (Node's 'close' waits for both).
   */
  abort(): Promise<SaveEnd>;
  readonly exited: Promise<SaveEnd>;
  stderr(): string;
  /** Why it failed, after `exited` gave a non-zero code: "exit 1: docker's last line", or the daemon's HTTP status and message. */
  failure(code: number): string;
}

/**
 * Starts `docker save IMAGE` (`save` gives the engine's argv after the
 * binary), or the same export read from the daemon's Unix socket `socket`
 * (./api-save.ts) when something accepts a connection there. Nothing needs
 * to read it yet: the daemon first writes the whole image to a temporary
 * directory (seconds for a large one), then blocks on the full pipe or
 * socket until `scanStartedSave()` reads.
 */
export async function startSave(docker: string, image: string, env: ChildEnv, save: (image: string) => string[] = (i) => ['save', i], socket?: string): Promise<StartedSave> {
  const api = socket ? await startApiSave(socket, image, () => startCliSave(docker, image, env, save)) : undefined;
  debug(api ? `verify: reading ${api.what}` : `verify: reading \`${docker} ${save(image).join(' ')}\`${socket ? ` (nothing accepted a connection at unix://${socket})` : ''}`);
  return api ?? startCliSave(docker, image, env, save);
}

async function startCliSave(docker: string, image: string, env: ChildEnv, save: (image: string) => string[]): Promise<StartedSave> {
  const bulk = await bulkStdout();
  // docker save must not outlive secbuild (it would go on writing a temporary copy of the image):
  // the exec seam kills it on exit and on a signal.
  let child;
  try {
    child = start(docker, save(image), { env, stdio: ['ignore', bulk ? bulk.childEnd : 'pipe', 'pipe'], signals: 'kill' });
  } finally {
    bulk?.handedOver();
  }
  const exited = waitForExit(child);
  const piped = bulk ? undefined : claim(child.stdout!);
  const abort = () => {
    child.kill('SIGTERM');
    if (bulk) bulk.destroy();
    else piped!.destroy();
    return exited;
  };
  const stderr = tail(child.stderr!);
  const failure = (code: number) => `exit ${code}: ${stderr().split('\n').filter(Boolean).at(-1) ?? 'no message'}`;
  return { image, what: `\`${docker} ${save(image).join(' ')}\``, stdout: bulk ? bulk.pieces : piped!, abort, exited, stderr, failure };
}

/**
 * A child's stdout, kept for a reader that comes later. When a child exits,
 * Node resumes each of its output streams that no one listens to for
 * 'readable' (child_process `flushStdio`): the data flows to no listener
 * and is lost. An archive that fits the pipe (under ~80 KiB: a FROM scratch
 * image) is written whole and docker save gone before the scan starts, so
 * the scan read nothing. A 'readable' listener from the start keeps every
 * byte: the stream buffers up to its highWaterMark, then the pipe holds the
 * writer until the scan reads.
 */
function claim(stream: Readable): Readable {
  stream.on('readable', () => {});
  return stream;
}

/** Searches the output of a started `docker save` as it streams; `stats` fills in as the archive is read (progress lines read it). */
export async function scanStartedSave(save: StartedSave, search: Search, stats: ScanStats = newStats()): Promise<ArchiveScan> {
  const { exited } = save;
  let scan: ArchiveScan;
  try {
    scan = await scanArchive(save.stdout, search, stats);
  } catch (err) {
    const result = await save.abort();
    // docker failing explains a cut-off archive better than the parser does.
    if (result.code) throw saveFailed(save, result.code);
    // A plain Error is the archive's fault (corrupt gzip, a broken tar), not a bug in secbuild.
    if (err instanceof Error && err.constructor === Error) {
      throw new UsageError(`the archive ${save.what} gave could not be read: ${err.message}.`, { cause: err });
    }
    throw err;
  }
  const result = await exited;
  const problem = result.code === 0 ? incompleteScan(scan) : undefined;
  if (problem) throw new UsageError(`${save.what} could not be searched: ${problem}; the image is not verified. Run it again; if it repeats, check the daemon's log.`);
  if (result.error) throw new UsageError(`${save.what} could not be started (${result.error.code ?? result.error.message}); check --docker / SECBUILD_DOCKER.`);
  if (result.code !== 0) throw saveFailed(save, result.code ?? 128);
  return scan;
}

function saveFailed(save: StartedSave, code: number): UsageError {
  return new UsageError(`${save.what} failed (${save.failure(code)})`);
}
