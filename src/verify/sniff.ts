/**
 * What an archive entry is, from its first bytes — `docker save` names layers
 * `<id>/layer.tar` (Docker layout) or `blobs/sha256/<digest>` (OCI layout),
 * and a blob's name does not say whether it is a layer, a config or a
 * manifest, nor whether it is compressed. Pure.
 *
 * - gzip: RFC 1952 magic `1f 8b` and method 8 (deflate).
 * - zstd: RFC 8878 frame magic `28 b5 2f fd`.
 * - tar: POSIX/GNU `ustar` magic at offset 257 (moby's archive and Go's
 *   archive/tar write it), or an old v7 header whose checksum adds up; an
 *   all-zero first block is an empty archive (an empty layer is 1024 zeros).
 * - json: the first non-blank byte is `{` or `[` (configs, manifests, index).
 */
import { headerChecksumOk } from './tarheader.js';

export type BlobKind = 'gzip' | 'zstd' | 'tar' | 'json' | 'other';

/** How many leading bytes `sniff` wants to see (one tar header block). */
export const SNIFF_BYTES = 512;

export function sniff(head: Uint8Array): BlobKind {
  if (head.length >= 3 && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (isTarHeader(head)) return 'tar';
  for (const b of head) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
    return b === 0x7b || b === 0x5b ? 'json' : 'other';
  }
  return 'other';
}

/** Whether `head` starts with a tar header block (or the zero block that ends an empty archive). */
export function isTarHeader(head: Uint8Array): boolean {
  if (head.length < 512) return false;
  if (head.subarray(0, 512).every((b) => b === 0)) return true;
  // "ustar\0" (POSIX) or "ustar " (GNU) at 257.
  const magic = Buffer.from(head.buffer, head.byteOffset + 257, 5).toString('latin1');
  const block = Buffer.from(head.buffer, head.byteOffset, 512);
  if (magic === 'ustar') return headerChecksumOk(block);
  return headerChecksumOk(block) && head[0] !== 0;
}
