/** Building image archives in memory for the verify unit tests: tars with tar-stream, gzip with node:zlib. */
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import * as tarStream from 'tar-stream';

export interface TarEntrySpec {
  name: string;
  data?: Buffer | string;
  type?: 'file' | 'directory' | 'symlink' | 'link';
  linkname?: string;
  pax?: Record<string, string>;
}

/** A tar archive of `entries`, as tar-stream writes it (ustar, PAX headers when asked). */
export async function tarOf(entries: readonly TarEntrySpec[]): Promise<Buffer> {
  const pack = tarStream.pack();
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    const type = e.type ?? 'file';
    const header = { name: e.name, type, linkname: e.linkname, size: type === 'file' ? data.length : 0, pax: e.pax, mode: type === 'directory' ? 0o755 : 0o644 };
    if (type === 'file') pack.entry(header, data);
    else pack.entry(header);
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export const gzip = (b: Buffer) => gzipSync(b);
export const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** Splits `buf` into chunks of `size` bytes (or at the given offsets), as a stream would deliver it. */
export async function* chunks(buf: Buffer, size: number | number[]): AsyncGenerator<Buffer> {
  if (Array.isArray(size)) {
    let at = 0;
    for (const cut of [...size, buf.length]) {
      if (cut > at) yield buf.subarray(at, cut);
      at = Math.max(at, cut);
    }
    return;
  }
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/** A 512-byte ustar header for a regular file (for archives generated on the fly). */
export function ustarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

export interface ImageSpec {
  /** Each layer: its entries (or its tar, written by hand: rawTar), and whether it is stored gzip-compressed. */
  layers: Array<{ entries: TarEntrySpec[]; gzip?: boolean; tar?: Buffer }>;
  config: Record<string, unknown>;
  /** Docker layout (`docker save` ≤ 24) or OCI layout (index.json + blobs). */
  layout: 'docker' | 'oci';
  /** Docker layout: layer i is a symlink to layer j's layer.tar. */
  duplicate?: Record<number, number>;
  /** Extra archive entries (raw). */
  extra?: TarEntrySpec[];
}

/** An image archive laid out as `docker save` writes it. Returns the archive and the layer digests. */
export async function imageArchive(spec: ImageSpec): Promise<{ archive: Buffer; layerDigests: string[]; diffIds: string[]; configDigest: string }> {
  const tars = await Promise.all(spec.layers.map((l) => l.tar ?? tarOf(l.entries)));
  const blobs = tars.map((t, i) => (spec.layers[i]!.gzip ? gzip(t) : t));
  const diffIds = tars.map((t) => `sha256:${sha256(t)}`);
  const config = Buffer.from(JSON.stringify({ ...spec.config, rootfs: { type: 'layers', diff_ids: diffIds } }));
  const configHex = sha256(config);
  const entries: TarEntrySpec[] = [];
  let layerDigests: string[];
  if (spec.layout === 'docker') {
    const ids = blobs.map((_, i) => sha256(`layer${i}`));
    layerDigests = diffIds;
    blobs.forEach((b, i) => {
      entries.push({ name: `${ids[i]}/`, type: 'directory' }, { name: `${ids[i]}/VERSION`, data: '1.0' });
      entries.push({ name: `${ids[i]}/json`, data: JSON.stringify({ id: ids[i], container_config: { Cmd: ['/bin/sh'] } }) });
      const dup = spec.duplicate?.[i];
      if (dup !== undefined) entries.push({ name: `${ids[i]}/layer.tar`, type: 'symlink', linkname: `../${ids[dup]}/layer.tar` });
      else entries.push({ name: `${ids[i]}/layer.tar`, data: b });
    });
    entries.push({ name: `${configHex}.json`, data: config });
    entries.push({ name: 'manifest.json', data: JSON.stringify([{ Config: `${configHex}.json`, RepoTags: ['test:latest'], Layers: ids.map((id) => `${id}/layer.tar`) }]) });
  } else {
    layerDigests = blobs.map((b) => `sha256:${sha256(b)}`);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configHex}`, size: config.length },
      layers: blobs.map((b, i) => ({ mediaType: `application/vnd.oci.image.layer.v1.tar${spec.layers[i]!.gzip ? '+gzip' : ''}`, digest: `sha256:${sha256(b)}`, size: b.length })),
    }));
    // A multi-platform index pointing at the manifest, as docker 25+ writes for some images.
    const nested = Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${sha256(manifest)}`, size: manifest.length }] }));
    const blobEntries = new Map<string, Buffer>([[sha256(config), config], [sha256(manifest), manifest], [sha256(nested), nested]]);
    blobs.forEach((b) => blobEntries.set(sha256(b), b));
    entries.push({ name: 'blobs/', type: 'directory' }, { name: 'blobs/sha256/', type: 'directory' });
    for (const [hex, data] of [...blobEntries].sort(([a], [b]) => a.localeCompare(b))) entries.push({ name: `blobs/sha256/${hex}`, data });
    entries.push({ name: 'index.json', data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest: `sha256:${sha256(nested)}`, size: nested.length }] }) });
    entries.push({ name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' });
  }
  entries.push(...(spec.extra ?? []));
  return { archive: await tarOf(entries), layerDigests, diffIds, configDigest: `sha256:${configHex}` };
}

/** ustar header fields by name: [offset, length] (POSIX.1-1988; `rest` is the 12 unused bytes after `prefix`). */
export const USTAR_FIELDS = {
  name: [0, 100], mode: [100, 8], uid: [108, 8], gid: [116, 8], size: [124, 12], mtime: [136, 12], typeflag: [156, 1], linkname: [157, 100],
  uname: [265, 32], gname: [297, 32], devmajor: [329, 8], devminor: [337, 8], prefix: [345, 155], rest: [500, 12],
} as const;
export type UstarField = keyof typeof USTAR_FIELDS;

/** A tar entry written byte by byte: any header field, and bytes in the padding after its content. */
export interface RawTarEntry {
  name: string;
  data?: Buffer | string;
  /** Typeflag character (default '0', a regular file). */
  type?: string;
  /** Header fields written as given, over the defaults (text, cut to the field's length). */
  fields?: Partial<Record<UstarField, string>>;
  /** GNU magic (`ustar  \0`) instead of POSIX `ustar\000`. */
  gnu?: boolean;
  /** Written at the start of the padding after the content (the content must leave room). */
  pad?: string;
}

/** The header block of `e`, its checksum computed over what was written. */
export function rawHeader(e: RawTarEntry): Buffer {
  const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
  const h = Buffer.alloc(512);
  const set = (f: UstarField, text: string) => h.write(text, USTAR_FIELDS[f][0], USTAR_FIELDS[f][1], 'latin1');
  set('name', e.name);
  set('mode', '0000644\0');
  set('uid', '0000000\0');
  set('gid', '0000000\0');
  set('size', `${data.length.toString(8).padStart(11, '0')}\0`);
  set('mtime', '00000000000\0');
  set('typeflag', e.type ?? '0');
  h.write(e.gnu ? 'ustar  \0' : 'ustar\x0000', 257, 'latin1');
  for (const [f, text] of Object.entries(e.fields ?? {})) set(f as UstarField, text);
  h.write('        ', 148, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** A tar of `entries` written by hand, then `end` (default: the two zero blocks that end an archive). */
export function rawTar(entries: readonly RawTarEntry[], end: Buffer = Buffer.alloc(1024)): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data) : (e.data ?? Buffer.alloc(0));
    const padding = Buffer.alloc((512 - (data.length % 512)) % 512);
    if (e.pad) {
      if (e.pad.length > padding.length) throw new Error(`no room for the padding of ${e.name}`);
      padding.write(e.pad, 0, 'latin1');
    }
    parts.push(rawHeader(e), data, padding);
  }
  parts.push(end);
  return Buffer.concat(parts);
}

/**
 * Rewrites the header of the entry named `name` in `tar` (a plain ustar
 * archive without PAX or long names, as tarOf writes small ones): `fields`
 * over the header, `pad` into the padding after its content. Returns a copy.
 */
export function patchTar(tar: Buffer, name: string, change: { fields?: Partial<Record<UstarField, string>>; pad?: string }): Buffer {
  const out = Buffer.from(tar);
  for (let at = 0; at + 512 <= out.length; ) {
    const h = out.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const size = parseInt(h.toString('latin1', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
    const type = h.toString('latin1', 156, 157);
    const body = type === '0' || type === '\0' || type === 'x' ? size : 0;
    if (h.toString('latin1', 0, 100).replace(/\0.*$/s, '') === name) {
      for (const [f, text] of Object.entries(change.fields ?? {})) {
        const [off, len] = USTAR_FIELDS[f as UstarField];
        h.fill(0, off, off + len);
        h.write(text, off, len, 'latin1');
      }
      h.write('        ', 148, 'latin1');
      let sum = 0;
      for (const b of h) sum += b;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      if (change.pad) {
        const room = (512 - (body % 512)) % 512;
        if (change.pad.length > room) throw new Error(`no room for the padding of ${name}`);
        out.write(change.pad, at + 512 + body, 'latin1');
      }
      return out;
    }
    at += 512 + body + ((512 - (body % 512)) % 512);
  }
  throw new Error(`no entry ${name} in the tar`);
}
