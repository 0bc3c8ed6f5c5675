/**
 * Which archive entry is which part of the image, read after the archive has
 * streamed by (`docker save` writes manifest.json and index.json last, so a
 * blob's role is only known at the end). Pure: parsed documents in, a map
 * out. Two layouts, both handled, as docker writes them:
 *
 * - Docker (`docker save` up to 24, moby image/tarexport/save.go):
 *   `manifest.json` = `[{Config: "<hex>.json", RepoTags, Layers: ["<id>/layer.tar", …]}]`;
 *   a layer repeated in the image is a symlink to the first copy. A layer's
 *   digest is the config's `rootfs.diff_ids[i]`.
 * - OCI image layout (docker 25+, which also writes manifest.json):
 *   `index.json` → manifest blobs (or nested indexes) → `config.digest` and
 *   `layers[].digest`, every blob at `blobs/<alg>/<hex>`, so the path is the
 *   digest.
 *
 * Layer i maps to the i-th history entry without `empty_layer` when the
 * counts agree (as docker's own `docker history` assumes).
 */

export interface LayerInfo {
  /** Position in the image, 0 = the base layer. */
  index: number;
  /** How many layers the image has. */
  of: number;
  /** The blob digest (OCI) or diff id (Docker layout), when known. */
  digest?: string;
  /** Index in the config's `history` of the instruction that made it. */
  history?: number;
}

export interface Layout {
  /** Layer blob path (symlinks resolved) → where it sits in the image. */
  layers: Map<string, LayerInfo>;
  /** Image config blob path → its digest. */
  configs: Map<string, string>;
  /** Layers in the image (the first image of the archive). */
  layerCount: number;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** `blobs/sha256/<hex>` or `<hex>.json` → `sha256:<hex>`. */
export function digestOfPath(path: string): string | undefined {
  const oci = /^blobs\/([a-z0-9]+)\/([a-f0-9]{32,})$/.exec(path);
  if (oci) return `${oci[1]}:${oci[2]}`;
  const docker = /^([a-f0-9]{64})\.json$/.exec(path);
  return docker ? `sha256:${docker[1]}` : undefined;
}

const blobPath = (digest: unknown): string | undefined => {
  if (typeof digest !== 'string') return undefined;
  const m = /^([a-z0-9]+):([a-f0-9]+)$/.exec(digest);
  return m ? `blobs/${m[1]}/${m[2]}` : undefined;
};

export function resolveLink(links: ReadonlyMap<string, string>, path: string): string {
  let p = path;
  for (let hops = 0; hops < 8 && links.has(p); hops++) p = links.get(p)!;
  return p;
}

function historyIndexes(config: unknown, layerCount: number): number[] | undefined {
  if (!isObject(config) || !Array.isArray(config.history)) return undefined;
  const out: number[] = [];
  config.history.forEach((h, i) => {
    if (!(isObject(h) && h.empty_layer === true)) out.push(i);
  });
  return out.length === layerCount ? out : undefined;
}

export function readLayout(json: ReadonlyMap<string, unknown>, links: ReadonlyMap<string, string>): Layout {
  const layout: Layout = { layers: new Map(), configs: new Map(), layerCount: 0 };
  let first = true;
  const addImage = (configPath: string | undefined, layerPaths: string[], digests?: (string | undefined)[]) => {
    const config = configPath ? json.get(configPath) : undefined;
    if (configPath) layout.configs.set(configPath, digestOfPath(configPath) ?? '');
    const diffIds = isObject(config) && isObject(config.rootfs) ? strings(config.rootfs.diff_ids) : [];
    const history = historyIndexes(config, layerPaths.length);
    layerPaths.forEach((p, index) => {
      const path = resolveLink(links, p);
      if (layout.layers.has(path)) return;
      const digest = digests?.[index] ?? digestOfPath(path) ?? diffIds[index];
      layout.layers.set(path, { index, of: layerPaths.length, digest, history: history?.[index] });
    });
    if (first) layout.layerCount = layerPaths.length;
    first = false;
  };

  const manifest = json.get('manifest.json');
  if (Array.isArray(manifest)) {
    for (const image of manifest) {
      if (!isObject(image)) continue;
      addImage(typeof image.Config === 'string' ? image.Config : undefined, strings(image.Layers));
    }
  }

  const seen = new Set<string>();
  const visitIndex = (index: unknown, depth: number) => {
    if (!isObject(index) || !Array.isArray(index.manifests) || depth > 4) return;
    for (const m of index.manifests) {
      const path = isObject(m) ? blobPath(m.digest) : undefined;
      if (!path || seen.has(path)) continue;
      seen.add(path);
      const doc = json.get(path);
      if (isObject(doc) && Array.isArray(doc.manifests)) visitIndex(doc, depth + 1);
      else if (isObject(doc) && Array.isArray(doc.layers)) {
        const digests = doc.layers.map((l) => (isObject(l) && typeof l.digest === 'string' ? l.digest : undefined));
        const paths = digests.map((d) => blobPath(d) ?? '');
        addImage(isObject(doc.config) ? blobPath(doc.config.digest) : undefined, paths, digests);
      }
    }
  };
  visitIndex(json.get('index.json'), 0);
  return layout;
}
