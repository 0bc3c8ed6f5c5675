/**
 * Searching what a build wrote instead of an image in a daemon's store
 * (`--output`, src/engines/docker/outputs.ts), with the same search as an
 * image (./layers.ts, ./save.ts): an adapter that feeds a file or a directory
 * into the existing scan, nothing more.
 *
 * - an image archive (`type=oci,dest=FILE`, `type=docker,dest=FILE`): read
 *   as `docker save` output is (scanArchive: layers, config, manifests);
 * - a filesystem tar (`type=tar,dest=FILE`): one blob, so it is walked as a
 *   layer is: every entry's name, link target and content;
 * - a directory (`type=local,dest=DIR`, `type=oci,tar=false`): walked without
 *   following links; each entry's name and link target, and each file's
 *   content as a blob (a compressed file or a tar inside is opened as in an image).
 */
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import { blobSink, loadZlib, newStats, type ScanContext, type ScanStats } from './layers.js';
import { incompleteScan, scanArchive } from './save.js';
import { describeHits, type SearchTargets, type VerifyHit, type VerifyResult } from './scan.js';
import { Search, type RawHit } from './search.js';
import type { EntrySink } from './tarwalk.js';

/** A build result on disk: an image archive, or a filesystem (a directory or a tar of one). */
export interface OutputTarget {
  kind: 'archive' | 'files';
  path: string;
  /** The docker flag that wrote it, for messages: `--output type=oci,dest=img.tar`. */
  flag: string;
}

const missing = (t: OutputTarget, err: unknown) =>
  new UsageError(`--verify: ${t.flag} left nothing readable at ${t.path} (${(err as NodeJS.ErrnoException).code ?? String(err)}), so the build's result is not verified.`, { cause: err });

export async function verifyOutput(t: OutputTarget, targets: SearchTargets): Promise<VerifyResult> {
  const started = performance.now();
  const search = new Search(targets.patterns);
  const stats = newStats();
  let hits: VerifyHit[];
  let id = t.path;
  try {
    await lstat(t.path);
  } catch (err) {
    throw missing(t, err);
  }
  if (t.kind === 'archive') {
    const scan = await scanArchive(createReadStream(t.path), search, stats).catch((err: unknown) => {
      throw err instanceof Error && err.constructor === Error ? new UsageError(`--verify: ${t.path} (${t.flag}) could not be read: ${err.message}.`, { cause: err }) : err;
    });
    const problem = stats.archiveBytes === 0 ? 'the file is empty' : incompleteScan(scan);
    if (problem) throw new UsageError(`--verify: ${t.path} (${t.flag}) could not be searched: ${problem}; the build's result is not verified.`);
    hits = describeHits(search, scan.layout, targets.sources);
    id = [...scan.layout.configs.values()].find(Boolean) ?? t.path;
  } else {
    const ctx: ScanContext = { search, zlib: await loadZlib(), stats, json: new Map(), jsonKept: 0 };
    const st = await lstat(t.path);
    if (st.isDirectory()) await walkDir(ctx, t.path, '');
    else await feedFile(uncovered(ctx, '', st.size), t.path, stats);
    // A directory or a tar is the final filesystem: one layer's worth.
    stats.layers = [t.path];
    hits = search.hits.map((h) => describeFileHit(h, search, t.path, targets.sources.get(h.secret) ?? ''));
  }
  return {
    image: t.path,
    id,
    clean: hits.length === 0,
    hits,
    layers: stats.layers.length,
    layerBytes: stats.layerBytes,
    archiveBytes: stats.archiveBytes,
    files: stats.files,
    jsonFiles: stats.jsonFiles,
    historyEntries: 0,
    unreadable: stats.unreadable,
    ms: Math.round(performance.now() - started),
  };
}

/** A file of the output: no archive lane reads its bytes, so its sink searches them. */
const uncovered = (ctx: ScanContext, blob: string, size: number): ReturnType<typeof blobSink> => blobSink(ctx, blob, size, 0, false);

async function feedFile(sink: EntrySink, path: string, stats: ScanStats): Promise<void> {
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
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
      await feedFile(uncovered(ctx, r, st.size), path, ctx.stats);
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
