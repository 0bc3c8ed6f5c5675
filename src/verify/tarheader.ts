/**
 * Reading the fields of one 512-byte tar header block, and PAX records — as
 * Go's archive/tar reads them (src/verify/tarwalk.ts walks the archive).
 * Pure.
 */

export const padding = (size: number) => (512 - (size % 512)) % 512;

export function isZero(b: Buffer): boolean {
  for (let i = 0; i < 512; i++) if (b[i] !== 0) return false;
  return true;
}

/** The bytes of a NUL-terminated field (a view: copy it to keep it). */
export function field(b: Buffer, offset: number, length: number): Buffer {
  const end = b.indexOf(0, offset);
  return b.subarray(offset, end === -1 || end > offset + length ? offset + length : end);
}

/** A numeric header field: octal text (spaces and NULs around it), or base-256 when its first byte has the top bit set. */
export function readNumber(b: Buffer, offset: number, length: number): number | undefined {
  if (b[offset]! & 0x80) {
    const negative = b[offset] === 0xff;
    if (!negative && b[offset] !== 0x80) return undefined;
    let v = 0;
    for (let i = offset + 1; i < offset + length; i++) v = v * 256 + (negative ? 0xff - b[i]! : b[i]!);
    return negative ? -v - 1 : v;
  }
  const text = b.toString('latin1', offset, offset + length).replace(/^[ \0]+/, '').replace(/[ \0]+$/, '').replace(/\0.*$/s, '');
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

/**
 * Whether the 512-byte header block `b` carries its own checksum: the sum of
 * its bytes with the checksum field read as spaces, taken unsigned or signed
 * as Go accepts it. Also what src/verify/sniff.ts asks of a tar's first block.
 */
export function headerChecksumOk(b: Buffer): boolean {
  const sum = readNumber(b, 148, 8);
  if (sum === undefined) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const v = i >= 148 && i < 156 ? 0x20 : b[i]!;
    unsigned += v;
    signed += v > 127 ? v - 256 : v;
  }
  return sum === unsigned || sum === signed;
}

/** PAX records (`LEN key=value\n`), values as raw bytes; a malformed record ends the list, as in tar-stream. */
export function paxRecords(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const len = Number(data.toString('latin1', at, space));
    if (!Number.isSafeInteger(len) || len <= space - at + 1 || at + len > data.length) break;
    const record = data.subarray(space + 1, at + len - 1); // without the newline
    const eq = record.indexOf(0x3d);
    if (eq === -1) break;
    out.set(record.toString('utf8', 0, eq), Buffer.from(record.subarray(eq + 1)));
    at += len;
  }
  return out;
}
