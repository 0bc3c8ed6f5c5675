/**
 * `verifyImage()`: searches a local image for secret values — every byte of
 * the `docker save` archive and of each layer in it (headers, content,
 * padding, end blocks; file names and PAX records as read), the image config
 * and every JSON file string by string, and `docker history --no-trunc` —
 * with one multi-pattern matcher, and returns where each value was found. Shared by
 * `secbuild verify` and `secbuild build --verify`.
 *
 * The image is pinned to its id first (`docker image inspect`), so `save`
 * and `history` look at the same image even if its tag moves meanwhile.
 */
import type { Pattern, PatternForm } from '../secrets/forms.js';
import { UsageError } from '../util/errors.js';
import { daemonUnreachableIn } from '../engines/docker/reach.js';
import { info, progress } from '../util/log.js';
import type { ChildEnv } from '../run/env.js';
import { capture } from '../run/exec.js';
import { withLifeline } from '../run/session.js';
import { newStats, type ScanStats } from './layers.js';
import type { Layout } from './layout.js';
import { walkJson } from './json.js';
import { scanStartedSave, startSave } from './save.js';
import { Search, type LayerPart, type RawHit } from './search.js';

export interface VerifyHit {
  /** The secret's id, and where it came from (e.g. `env:NPM_TOKEN`). Never its value. */
  secret: string;
  source: string;
  /** Which forms of the value matched: raw, line, base64, url. */
  forms: PatternForm[];
  occurrences: number;
  in: 'layer' | 'config' | 'archive' | 'history';
  /** For `in: layer`: position (0 = base), layer count, digest, and the config history entry that made it. */
  layer?: { index?: number; of?: number; digest?: string; history?: number };
  /** For `in: layer`: the file (none for the layer's end), and what of it matched; for `in: archive`, the archive's own tar bytes: an entry's header or padding, or its end. */
  path?: string;
  part?: LayerPart;
  /** The archive entry (layer blob, config or other JSON file). */
  file?: string;
  /** For config, archive JSON and history: the field path, e.g. `config.Env[2]`. */
  field?: string;
  /** For `in: history`: the `docker history` entry, 0 = newest. */
  entry?: number;
  /** One printable line. Names and paths have every secret form replaced by `***`. */
  where: string;
}

export interface VerifyResult {
  /** As given, and the image id it resolved to. */
  image: string;
  id: string;
  clean: boolean;
  hits: VerifyHit[];
  /** Layers searched, and bytes of layer data (uncompressed tar). */
  layers: number;
  layerBytes: number;
  /** Bytes of the `docker save` stream. */
  archiveBytes: number;
  /** Entries in the layers. */
  files: number;
  /** JSON files searched field by field (image config, manifests). */
  jsonFiles: number;
  historyEntries: number;
  /** Blobs that could not be searched (e.g. zstd without a decoder): the image is not verified. */
  unreadable: Array<{ blob: string; reason: string }>;
  ms: number;
  /** The ids of the secrets searched for (never a value). */
  secrets?: string[];
}

export interface SearchTargets {
  patterns: readonly Pattern[];
  /** Secret id → printable source. */
  sources: ReadonlyMap<string, string>;
}

export interface VerifyOptions {
  /** The engine's binary (docker or podman). */
  docker: string;
  /** argv after the binary that writes the image as an archive (default `save IMAGE`). */
  save?: (image: string) => string[];
  /** The daemon's Unix socket to read the archive from instead, when it accepts (Engine.archiveSocket). */
  socket?: string;
  image: string;
  /** Environment for docker (secret variables removed). */
  env: ChildEnv;
  /** What to search for, or how to get it: `secbuild verify` resolves the secrets while docker save starts. */
  targets: SearchTargets | (() => Promise<SearchTargets>);
}

export async function verifyImage(opts: VerifyOptions): Promise<VerifyResult> {
  const started = performance.now();
  const { docker, image, env } = opts;
  const [archive, historyEntries, search, id, what, socket] = await withLifeline(async () => {
    // docker save starts first: the daemon writes the whole image to a temporary directory before
    // it sends a byte (seconds for a large image), time in which the secrets resolve and the id is read.
    // A caller that can tell there is nothing to search says so before this (src/cli/commands/verify.ts).
    const save = await startSave(docker, image, env, opts.save, opts.socket);
    let id: string;
    let targets: SearchTargets;
    let search: Search;
    try {
      const [pinned, resolved] = await Promise.allSettled([imageId(docker, image, env), typeof opts.targets === 'function' ? opts.targets() : opts.targets]);
      // The secrets' error first, as when they resolved before the image was looked at (exit 3 before 2).
      if (resolved.status === 'rejected') throw resolved.reason;
      if (pinned.status === 'rejected') throw pinned.reason;
      id = pinned.value;
      targets = resolved.value;
      search = new Search(targets.patterns);
    } catch (err) {
      // Nothing will read it: killed and its pipe discarded, or secbuild would wait for it forever.
      await save.abort();
      throw err;
    }
    // Both run to the end before an error of either is reported: no docker process is left behind.
    const stats = newStats();
    const ticker = startProgress(stats, started);
    const [saved, history] = await Promise.allSettled([scanStartedSave(save, search, stats), searchHistory(docker, id, env, search)]).finally(ticker);
    if (saved.status === 'rejected') throw saved.reason;
    if (history.status === 'rejected') throw history.reason;
    return [saved.value, history.value, { search, sources: targets.sources }, id, save.what, save.socket] as const;
  });
  // save read the image by name, history by the id inspect gave: the same image, unless the tag moved meanwhile
  // (or the daemon at the socket is not the one the docker CLI asked).
  // (podman prints its ids without the sha256: prefix.)
  const bare = (d: string) => d.replace(/^sha256:/, '');
  const digests = [...archive.layout.configs.values()].filter(Boolean).map(bare);
  if (digests.length > 0 && !digests.includes(bare(id))) {
    // From the socket, a second run reads the same daemon: a --docker that reaches another one needs the CLI's save.
    const other = socket ? `; if the docker CLI you named reaches another daemon than unix://${socket}, set SECBUILD_VERIFY_VIA=cli` : '';
    throw new UsageError(`${image} changed while it was verified (${what} gave another image than the ${id} image inspect named); run secbuild verify again${other}.`);
  }
  const hits = describeHits(search.search, archive.layout, search.sources);
  return {
    image,
    id,
    clean: hits.length === 0,
    hits,
    layers: archive.stats.layers.length,
    layerBytes: archive.stats.layerBytes,
    archiveBytes: archive.stats.archiveBytes,
    files: archive.stats.files,
    jsonFiles: archive.stats.jsonFiles,
    historyEntries,
    unreadable: archive.stats.unreadable,
    ms: Math.round(performance.now() - started),
    secrets: [...search.sources.keys()],
  };
}

/** Every PLAIN_MS off a terminal one plain line; on a terminal a line redrawn four times a second. Returns the stop function. */
// SECBUILD_PROGRESS_MS shortens the interval for tests.
const PLAIN_MS = Number(process.env.SECBUILD_PROGRESS_MS) || 5000;
function startProgress(stats: ScanStats, started: number): () => void {
  const text = () => `verify: ${(stats.layerBytes / 1e6).toFixed(1)} MB of layer data searched, ${stats.layersDone} layer${stats.layersDone === 1 ? '' : 's'} done (${((performance.now() - started) / 1000).toFixed(0)} s)`;
  const tty = process.stderr.isTTY === true;
  const timer = setInterval(() => (tty ? progress(text()) : info(text())), tty ? Math.min(250, PLAIN_MS) : PLAIN_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (tty) progress(undefined);
  };
}

async function imageId(docker: string, image: string, env: ChildEnv): Promise<string> {
  const r = await capture(docker, ['image', 'inspect', '--format', '{{.Id}}', image], { env, timeoutMs: 60_000 });
  if (r.failedToStart) throw new UsageError(`${docker} could not be started (${r.failedToStart}); check --docker / SECBUILD_DOCKER.`);
  const id = r.stdout.toString('utf8').trim().split('\n')[0] ?? '';
  if (r.exitCode !== 0 || !id) {
    const said = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.exitCode}`;
    throw daemonUnreachableIn(said, docker, `look up ${image}`, env) ?? new UsageError(`image "${image}" is not in the local image store (${said}); build or pull it first — with buildx's docker-container driver add --load.`);
  }
  return id;
}

/** Searches each field of each `docker history --no-trunc` entry; returns how many entries there were. */
async function searchHistory(docker: string, id: string, env: ChildEnv, search: Search): Promise<number> {
  const r = await capture(docker, ['history', '--no-trunc', '--format', '{{json .}}', id], { env, timeoutMs: 120_000 });
  if (r.exitCode !== 0) {
    const said = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.exitCode}`;
    throw new UsageError(`${docker} history ${id} failed: ${said}`);
  }
  const lines = r.stdout.toString('utf8').split('\n').filter((l) => l.trim());
  let count = lines.length;
  lines.forEach((line, entry) => {
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      search.bytes(Buffer.from(line, 'utf8'), () => ({ kind: 'history', entry, field: '' }));
      return;
    }
    // podman prints every entry in one JSON array; docker one object per line.
    if (Array.isArray(doc) && lines.length === 1) {
      doc.forEach((d, i) => walkJson(d, (field, text) => search.bytes(Buffer.from(text, 'utf8'), () => ({ kind: 'history', entry: i, field }))));
      count = doc.length;
      return;
    }
    walkJson(doc, (field, text) => search.bytes(Buffer.from(text, 'utf8'), () => ({ kind: 'history', entry, field })));
  });
  return count;
}

const ORDER = { layer: 0, config: 1, archive: 2, history: 3 } as const;

/** Raw hits placed in the image's layout, described without values, in image order. */
export function describeHits(search: Search, layout: Layout, sources: ReadonlyMap<string, string>): VerifyHit[] {
  const hits = search.hits.map((h) => placeHit(h, search, layout, sources.get(h.secret) ?? ''));
  const key = (h: VerifyHit) => [ORDER[h.in], h.layer?.index ?? Infinity, h.entry ?? 0] as const;
  return hits.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka[0] - kb[0] || ka[1] - kb[1] || ka[2] - kb[2] || a.where.localeCompare(b.where) || a.secret.localeCompare(b.secret);
  });
}

const LAYER_PART: Record<Exclude<LayerPart, 'end'>, string> = {
  content: '',
  name: ' (file name)',
  linkname: ' (file link target)',
  pax: ' (file PAX header)',
  header: ' (its tar header: owner names, times, device numbers, …)',
  padding: ' (the padding after its content)',
};

function placeHit(h: RawHit, search: Search, layout: Layout, source: string): VerifyHit {
  const base = { secret: h.secret, source, forms: [...h.forms], occurrences: h.occurrences };
  const p = h.place;
  const label = `secret "${h.secret}"${source ? ` (${source})` : ''}`;
  if (p.kind === 'layer') {
    const info = layout.layers.get(p.blob);
    const layer = info ? { index: info.index, of: info.of, digest: info.digest, history: info.history } : {};
    const path = search.redact(p.path);
    const which = info
      ? `layer ${info.index}${info.digest ? ` ${info.digest}` : ''}${info.history !== undefined ? ` (history[${info.history}])` : ''}`
      : `layer ${search.redact(p.blob)} (not in the image's manifest)`;
    if (p.part === 'end') return { ...base, in: 'layer', layer, part: p.part, file: p.blob, where: `${label} in ${which}: after its last entry (the end-of-archive blocks)` };
    return { ...base, in: 'layer', layer, path, part: p.part, file: p.blob, where: `${label} in ${which}: ${path}${LAYER_PART[p.part]}` };
  }
  if (p.kind === 'archive') {
    const blob = search.redact(p.blob);
    const where = p.part === 'end' ? "the archive's end-of-archive blocks" : p.part === 'header' ? `the archive's tar header of ${blob}` : `the archive's padding after ${blob}`;
    return { ...base, in: 'archive', part: p.part, ...(p.blob ? { file: p.blob } : {}), where: `${label} in ${where}` };
  }
  if (p.kind === 'json') {
    const field = search.redact(p.field);
    const config = layout.configs.get(p.blob);
    if (config !== undefined) return { ...base, in: 'config', file: p.blob, field, where: `${label} in the image config: ${field}` };
    return { ...base, in: 'archive', file: p.blob, field, where: `${label} in ${search.redact(p.blob)}: ${field}` };
  }
  if (p.kind === 'blob') return { ...base, in: 'archive', file: p.blob, where: `${label} in ${search.redact(p.blob)}` };
  const field = search.redact(p.field);
  return { ...base, in: 'history', entry: p.entry, field, where: `${label} in docker history entry ${p.entry} (newest first)${field ? `: ${field}` : ''}` };
}

/** Secret id → printable source(s), for naming hits (inline `.netrc` fields share the id "(field)"). */
export function sourcesOf(values: readonly { id: string; source: string }[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const had = out.get(v.id);
    if (had === undefined) out.set(v.id, v.source);
    else if (!had.split(', ').includes(v.source)) out.set(v.id, `${had}, ${v.source}`);
  }
  return out;
}
