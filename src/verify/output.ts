/**
 * Searching an image on disk instead of one in a daemon's store, with the
 * same search as an image (./layers.ts, ./save.ts): an adapter that feeds a
 * file or a directory into the existing scan, nothing more. Two callers:
 * `secbuild verify --archive FILE` (verifyArchive: a file the user names, no
 * daemon asked) and `build --verify` of what a build wrote (`--output`,
 * src/engines/docker/outputs.ts).
 *
 * - an image archive (`docker save -o FILE` in either layout,
 *   `type=oci|docker,dest=FILE`, `skopeo copy … oci-archive:FILE`), plain or
 *   gzip-compressed as a whole: read as `docker save` output is
 *   (scanArchive: layers, config, manifests);
 * - a filesystem tar (`type=tar,dest=FILE`): one blob, so it is walked as a
 *   layer is: every entry's name, link target and content;
 * - a directory (`type=local,dest=DIR`, `type=oci,tar=false`): walked without
 *   following links; each entry's name and link target, and each file's
 *   content as a blob (a compressed file or a tar inside is opened as in an image).
 *
 * A named file is opened without blocking and must be a regular file (a
 * symlink to one is followed): a FIFO or a device could block the read
 * forever or never end, so it is refused before a byte is read.
 */
import { constants, createReadStream, type ReadStream } from 'node:fs';
import { lstat, open, readdir, readlink, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream';
import { UsageError } from '../util/errors.js';
import { blobSink, loadZlib, newStats, type ScanContext, type ScanStats } from './layers.js';
import { incompleteScan, scanArchive } from './save.js';
import { describeHits, type SearchTargets, type VerifyHit, type VerifyResult } from './scan.js';
import { Search, type RawHit } from './search.js';
import { isTarHeader, SNIFF_BYTES } from './sniff.js';
import type { EntrySink } from './tarwalk.js';

/** A build result on disk: an image archive, or a filesystem (a directory or a tar of one). */
export interface OutputTarget {
  kind: 'archive' | 'files';
  path: string;
  /** The docker flag that wrote it, for messages: `--output type=oci,dest=img.tar`; `--archive` when the user named the file. */
  flag: string;
}

/** The flag of an archive the user names (`secbuild verify --archive FILE`): its messages speak of the file, not of a build. */
const NAMED = '--archive';
const KINDS = `docker save -o FILE, buildx --output type=oci,dest=FILE or skopeo copy … oci-archive:FILE; plain or gzip-compressed`;

/** One line about `t` that says what is wrong with it: `problem` is a clause about the file. */
function refuse(t: OutputTarget, problem: string, cause?: unknown): UsageError {
  const text = t.flag === NAMED
    ? `secbuild verify --archive: ${t.path} ${problem}; it is not verified.`
    : `--verify: ${t.path} (${t.flag}) ${problem}; the build's result is not verified.`;
  return new UsageError(text, cause === undefined ? undefined : { cause });
}

const KIND_NAMES: Array<[keyof import('node:fs').Stats, string]> = [
  ['isDirectory', 'a directory'], ['isFIFO', 'a FIFO'], ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'], ['isSocket', 'a socket'],
];

/**
 * Opens the file `t` names, following a symlink, if it is a regular file:
 * its type is read before it is opened (opening a device can act on it),
 * and again from the open descriptor, which O_NONBLOCK keeps from waiting
 * on a FIFO put there meanwhile.
 */
async function openRegular(t: OutputTarget): Promise<{ handle: FileHandle; size: number }> {
  const notRegular = (st: import('node:fs').Stats) => {
    const kind = KIND_NAMES.find(([test]) => (st[test] as () => boolean).call(st))?.[1] ?? 'a special file';
    return refuse(t, `is ${kind}, not a regular file (a pipe or a device could block the read or never end); write the archive to a file first`);
  };
  let handle: FileHandle;
  try {
    const st = await stat(t.path);
    if (!st.isFile()) throw notRegular(st);
    handle = await open(t.path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (t.flag !== NAMED) throw new UsageError(`--verify: ${t.flag} left nothing readable at ${t.path} (${code ?? String(err)}), so the build's result is not verified.`, { cause: err });
    throw refuse(t, code === 'ENOENT' ? `does not exist (give an image archive: ${KINDS})` : `cannot be opened (${code ?? String(err)})`, err);
  }
  const st = await handle.stat();
  if (!st.isFile()) {
    await handle.close();
    throw notRegular(st);
  }
  return { handle, size: st.size };
}

/** `secbuild verify --archive FILE`: the image archive at `path`, searched as an image is; no daemon is asked. */
export function verifyArchive(path: string, targets: Targets): Promise<VerifyResult> {
  return verifyOutput({ kind: 'archive', path, flag: NAMED }, targets);
}

/** What to search for, or how to get it once the file is known to be there (`secbuild verify` resolves the secrets then). */
type Targets = SearchTargets | (() => Promise<SearchTargets>);

/** The file's bytes, gunzipped when it starts as gzip does (`docker save | gzip`). */
async function archiveStream(t: OutputTarget, handle: FileHandle): Promise<AsyncIterable<Uint8Array>> {
  const magic = Buffer.alloc(3);
  const { bytesRead } = await handle.read(magic, 0, 3, 0).catch(async (err: unknown) => {
    await handle.close();
    throw refuse(t, `could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
  });
  // 1 MiB reads: a tenth of the calls of the default 64 KiB on a large archive.
  const file: ReadStream = handle.createReadStream({ start: 0, highWaterMark: 1 << 20 });
  if (!(bytesRead === 3 && magic[0] === 0x1f && magic[1] === 0x8b && magic[2] === 0x08)) return tarOnly(t, file, false);
  const zlib = await loadZlib();
  const gunzip = zlib.createGunzip({ chunkSize: 1 << 20 });
  // pipeline: a read error of the file reaches the gunzip stream, and so the scan.
  return tarOnly(t, pipeline(file, gunzip, () => {}), true);
}

/** Passes `source` on once its first block is a tar header; anything else is refused in one line. */
async function* tarOnly(t: OutputTarget, source: AsyncIterable<Uint8Array>, gzipped: boolean): AsyncGenerator<Uint8Array> {
  let head: Buffer[] | undefined = [];
  let have = 0;
  try {
    for await (const chunk of source) {
      if (!head) {
        yield chunk;
        continue;
      }
      head.push(Buffer.from(chunk));
      have += chunk.length;
      if (have < SNIFF_BYTES) continue;
      const first = Buffer.concat(head);
      head = undefined;
      if (!isTarHeader(first)) throw notTar(t, gzipped);
      yield first;
    }
  } catch (err) {
    if (gzipped && (err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw refuse(t, `is not a valid gzip stream (${(err as Error).message})`, err);
    throw err;
  }
  if (head && have > 0) throw notTar(t, gzipped);
}

const notTar = (t: OutputTarget, gzipped: boolean) =>
  refuse(t, `is not a tar archive${gzipped ? ' inside its gzip compression' : ''}, so not an image archive (give one: ${KINDS})`);

export async function verifyOutput(t: OutputTarget, wanted: Targets): Promise<VerifyResult> {
  const started = performance.now();
  const stats = newStats();
  const resolve = async () => (typeof wanted === 'function' ? await wanted() : wanted);
  const found = t.kind === 'archive' ? await searchArchive(t, resolve, stats) : await searchFiles(t, resolve, stats);
  return {
    image: t.path,
    id: found.id,
    clean: found.hits.length === 0,
    hits: found.hits,
    layers: stats.layers.length,
    layerBytes: stats.layerBytes,
    archiveBytes: stats.archiveBytes,
    files: stats.files,
    jsonFiles: stats.jsonFiles,
    historyEntries: 0,
    unreadable: stats.unreadable,
    ms: Math.round(performance.now() - started),
    secrets: found.secrets,
  };
}

interface Found {
  id: string;
  hits: VerifyHit[];
  secrets: string[];
}

async function searchArchive(t: OutputTarget, resolve: () => Promise<SearchTargets>, stats: ScanStats): Promise<Found> {
  // A file that is not there, or not a file, is said before any secret resolves.
  const { handle, size } = await openRegular(t);
  let targets: SearchTargets;
  try {
    if (size === 0) throw refuse(t, 'is empty, so not an image archive');
    targets = await resolve();
  } catch (err) {
    await handle.close();
    throw err;
  }
  const search = new Search(targets.patterns);
  const scan = await scanArchive(await archiveStream(t, handle), search, stats).catch((err: unknown) => {
    throw err instanceof Error && err.constructor === Error ? refuse(t, `could not be read: ${err.message}`, err) : err;
  });
  if (scan.layout.configs.size === 0) throw refuse(t, 'is a tar but not an image archive: it holds no manifest.json or index.json naming an image config');
  const problem = incompleteScan(scan);
  if (problem) throw refuse(t, `could not be searched: ${problem}`);
  return {
    id: [...scan.layout.configs.values()].find(Boolean) ?? t.path,
    hits: describeHits(search, scan.layout, targets.sources),
    secrets: [...targets.sources.keys()],
  };
}

async function searchFiles(t: OutputTarget, resolve: () => Promise<SearchTargets>, stats: ScanStats): Promise<Found> {
  const targets = await resolve();
  const search = new Search(targets.patterns);
  const ctx: ScanContext = { search, zlib: await loadZlib(), stats, json: new Map(), jsonKept: 0 };
  const isDir = await stat(t.path).then((st) => st.isDirectory(), () => false);
  if (isDir) await walkDir(ctx, t.path, '');
  else {
    const { handle, size } = await openRegular(t);
    await feedFile(fileSink(ctx, '', size), handle.createReadStream({ start: 0, highWaterMark: 1 << 20 }), stats);
  }
  // A directory or a tar is the final filesystem: one layer's worth.
  stats.layers = [t.path];
  return {
    id: t.path,
    hits: search.hits.map((h) => describeFileHit(h, search, t.path, targets.sources.get(h.secret) ?? '')),
    secrets: [...targets.sources.keys()],
  };
}

/**
 * A file of a filesystem output searched as a blob that no outer lane
 * covers (blobSink's `covered` false): its own bytes are scanned by the
 * sink. An entry of docker save's tar leaves them to the archive's lane,
 * which a file read from disk does not have.
 */
const fileSink = (ctx: ScanContext, path: string, size: number) => blobSink(ctx, path, size, 0, false);

async function feedFile(sink: EntrySink, source: AsyncIterable<Buffer>, stats: ScanStats): Promise<void> {
  for await (const chunk of source) {
    stats.archiveBytes += chunk.length;
    const wait = sink.data(chunk);
    if (wait) await wait;
  }
  await sink.end();
}

/** Every entry under `dir`, depth first, links not followed. */
async function walkDir(ctx: ScanContext, dir: string, rel: string): Promise<void> {
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    const r = rel ? `${rel}/${name}` : name;
    const st = await lstat(path);
    ctx.stats.files++;
    ctx.search.bytes(Buffer.from(name, 'utf8'), () => ({ kind: 'layer', blob: '', path: r, part: 'name' }));
    if (st.isSymbolicLink()) {
      ctx.search.bytes(Buffer.from(await readlink(path), 'utf8'), () => ({ kind: 'layer', blob: '', path: r, part: 'linkname' }));
    } else if (st.isDirectory()) {
      await walkDir(ctx, path, r);
    } else if (st.isFile()) {
      ctx.stats.layerBytes += st.size;
      await feedFile(fileSink(ctx, r, st.size), createReadStream(path), ctx.stats);
    }
  }
}

/** A hit in a filesystem output, named by the file under `root` (and the entry inside it, for an archive file). */
function describeFileHit(h: RawHit, search: Search, root: string, source: string): VerifyHit {
  const base = { secret: h.secret, source, forms: [...h.forms], occurrences: h.occurrences };
  const label = `secret "${h.secret}"${source ? ` (${source})` : ''}`;
  const p = h.place;
  if (p.kind === 'layer') {
    const file = search.redact(p.blob ? `${p.blob}: ${p.path}` : p.path);
    const what = p.part === 'content' ? '' : ` (file ${p.part === 'name' ? 'name' : p.part === 'linkname' ? 'link target' : 'PAX header'})`;
    return { ...base, in: 'layer', path: search.redact(p.path), part: p.part, file: p.blob || root, where: `${label} in ${root}: ${file}${what}` };
  }
  if (p.kind === 'json') return { ...base, in: 'archive', file: p.blob, field: search.redact(p.field), where: `${label} in ${root}: ${search.redact(p.blob)}: ${search.redact(p.field)}` };
  const blob = p.kind === 'blob' ? p.blob : '';
  return { ...base, in: 'archive', file: blob, where: `${label} in ${root}: ${search.redact(blob)}` };
}
