/**
 * A synchronous tar reader for the image scan: `feed()` hands each entry's
 * content straight to the sink its header asked for — no streams, no
 * buffering beyond one header block, no allocation per chunk — so the
 * caller may reuse a chunk as soon as `feed()` (and the promise it returns,
 * when a sink asked to wait) is done. Sinks copy what they keep.
 *
 * What it reads is what Go's archive/tar (moby's reader and writer) reads:
 * ustar, GNU and v7 headers with an unsigned or signed checksum, octal or
 * base-256 numbers, the ustar prefix, PAX records (`path`, `linkpath` and
 * `size` apply to the next entry), GNU long names and long link targets.
 * Header-only types (links, devices, directories, FIFOs) have no content
 * whatever their size field says, as in Go. A PAX global header's records
 * are handed over as an entry's `pax` of its own (moby ignores them; they
 * are searched all the same). A lone zero block is skipped; two in a row end
 * the archive, as in Go: what follows them is not read as entries (GNU tar
 * pads to a 10 KiB record there). A header whose checksum does not add up,
 * a size that is not a number, a long header over 4 MiB or an archive that
 * ends inside an entry is an Error naming that.
 *
 * The walker also says where each entry lies in the stream (`onSpan`), so
 * a search of the stream's raw bytes (src/verify/lane.ts) can name the entry
 * whose header, content or padding a match falls in: every byte read lies
 * in exactly one span, in stream order.
 */

import { field, headerChecksumOk, isZero, padding, paxRecords, readNumber } from './tarheader.js';

export { headerChecksumOk, paxRecords };

export interface WalkHeader {
  /** The entry's name, as bytes (prefix/name, a GNU long name or PAX `path`) and as UTF-8 text. */
  nameBytes: Buffer;
  name: string;
  /** Type name as tar-stream spelled it: file, link, symlink, directory, pax-global-header, …; null when unknown. */
  type: string | null;
  /** Bytes of content that follow (0 for header-only types). */
  size: number;
  linkBytes: Buffer | null;
  linkname: string | null;
  /** PAX records that applied to this entry (raw value bytes), or null. */
  pax: Map<string, Buffer> | null;
}

export interface EntrySink {
  /** A part of the entry's content, valid only during the call. A promise makes the reader wait for it. */
  data(chunk: Uint8Array): void | Promise<void>;
  end(): void | Promise<void>;
}

/**
 * Where one entry lies in the stream, as offsets from its first byte:
 * [start, content) its header blocks (a PAX or GNU long header before it
 * included), [content, contentEnd) its content, [contentEnd, end) the
 * padding to the next block. `header` is null for zero blocks and for what
 * follows the end of the archive (`end` is Infinity there).
 */
export interface Span {
  start: number;
  content: number;
  contentEnd: number;
  end: number;
  header: WalkHeader | null;
  /** The sink the entry's content went to (undefined: none). */
  sink: EntrySink | undefined;
}

/** Long headers (PAX, GNU long names) are read into memory: at most this many bytes each. */
export const MAX_LONG_HEADER = 4 << 20;

const TYPES: Record<number, string> = {
  0: 'file', 0x30: 'file', 0x31: 'link', 0x32: 'symlink', 0x33: 'character-device', 0x34: 'block-device',
  0x35: 'directory', 0x36: 'fifo', 0x37: 'contiguous-file', 0x78: 'pax-header', 0x67: 'pax-global-header',
  0x4b: 'gnu-long-link-path', 0x4c: 'gnu-long-path', 0x4e: 'gnu-long-path',
};
const HEADER_ONLY = new Set(['link', 'symlink', 'character-device', 'block-device', 'directory', 'fifo']);
const LONG = new Set(['pax-header', 'pax-global-header', 'gnu-long-path', 'gnu-long-link-path']);

/** A tar archive that cannot be read on. */
export class TarFormatError extends Error {}

const NOTHING: EntrySink = { data() {}, end() {} };

export class TarWalker {
  readonly #block = Buffer.alloc(512);
  #have = 0; // bytes of the next header block gathered so far
  #sink: EntrySink | undefined; // the entry whose content is being read
  #missing = 0; // its content bytes still to come
  #pad = 0; // padding bytes to skip after it
  #long: { type: string; data: Buffer; have: number } | undefined;
  #pax: Map<string, Buffer> | undefined;
  #gnuPath: Buffer | undefined;
  #gnuLink: Buffer | undefined;
  #pos = 0; // bytes consumed
  #first: number | undefined; // where the entry being read began (its first long header)
  #zeros = 0; // zero blocks in a row
  #ended = false; // two zero blocks were read: the rest is not entries

  constructor(
    private readonly onEntry: (header: WalkHeader) => EntrySink | undefined,
    private readonly onSpan: (span: Span) => void = () => {},
  ) {}

  feed(chunk: Uint8Array): void | Promise<void> {
    const n = chunk.length;
    if (this.#ended) {
      this.#pos += n;
      return;
    }
    let at = 0;
    while (at < n) {
      if (this.#sink) {
        const take = Math.min(this.#missing, n - at);
        this.#missing -= take;
        this.#pos += take;
        // take > 0: a sink is set only for an entry with content, and the loop runs while bytes are left.
        let wait = this.#sink.data(chunk.subarray(at, (at += take)));
        if (this.#missing === 0) wait = wait ? wait.then(() => this.#endEntry()) : this.#endEntry();
        if (wait) return wait.then(() => this.feed(chunk.subarray(at)));
        continue;
      }
      if (this.#long) {
        const long = this.#long;
        const take = Math.min(long.data.length - long.have, n - at);
        long.data.set(chunk.subarray(at, (at += take)), long.have);
        long.have += take;
        this.#pos += take;
        if (long.have === long.data.length) {
          const wait = this.#longDone(long);
          if (wait) return wait.then(() => this.feed(chunk.subarray(at)));
        }
        continue;
      }
      if (this.#pad > 0) {
        const take = Math.min(this.#pad, n - at);
        this.#pad -= take;
        this.#pos += take;
        at += take;
        continue;
      }
      const take = Math.min(512 - this.#have, n - at);
      this.#block.set(chunk.subarray(at, (at += take)), this.#have);
      this.#have += take;
      this.#pos += take;
      if (this.#have < 512) break;
      this.#have = 0;
      const wait = this.#header();
      if (wait) return wait.then(() => this.feed(chunk.subarray(at)));
      if (this.#ended) {
        this.#pos += n - at;
        return;
      }
    }
  }

  /** The archive has ended: an error if it ended inside a header, a long header or an entry. */
  end(): void {
    if (this.#sink || this.#long || this.#have > 0 || this.#pad > 0) throw new TarFormatError('the archive ends inside an entry (Unexpected end of data)');
  }

  #endEntry(): void | Promise<void> {
    const sink = this.#sink!;
    this.#sink = undefined;
    return sink.end();
  }

  /** A whole header block is in #block. */
  #header(): void | Promise<void> {
    const b = this.#block;
    const at = this.#pos - 512;
    if (isZero(b)) {
      const start = this.#first ?? at;
      this.#first = undefined;
      // Two zero blocks end the archive (Go's reader stops there): the rest is one span, never read as entries.
      if (++this.#zeros === 2) this.#ended = true;
      this.onSpan({ start, content: at + 512, contentEnd: at + 512, end: this.#ended ? Infinity : at + 512, header: null, sink: undefined });
      return;
    }
    this.#zeros = 0;
    this.#first ??= at;
    if (!headerChecksumOk(b)) throw new TarFormatError('a header block is damaged (its checksum does not add up; is it gzip-compressed?)');
    let type = TYPES[b[156]!] ?? null;
    let size = readNumber(b, 124, 12);
    if (size === undefined || size < 0 || !Number.isSafeInteger(size)) throw new TarFormatError('a header gives no valid size');
    if (type !== null && LONG.has(type)) {
      if (size > MAX_LONG_HEADER) throw new TarFormatError(`a ${type} is larger than ${MAX_LONG_HEADER >> 20} MiB`);
      this.#long = { type, data: Buffer.alloc(size), have: 0 };
      this.#pad = padding(size);
      if (size === 0) return this.#longDone(this.#long);
      return;
    }
    let nameBytes: Buffer = Buffer.from(field(b, 0, 100));
    if (b.toString('latin1', 257, 263) === 'ustar\0' && b[345] !== 0) nameBytes = Buffer.concat([field(b, 345, 155), Buffer.from('/'), nameBytes]);
    let linkBytes: Buffer | null = b[157] === 0 ? null : Buffer.from(field(b, 157, 100));
    if (this.#gnuPath) nameBytes = this.#gnuPath;
    if (this.#gnuLink) linkBytes = this.#gnuLink;
    const pax = this.#pax ?? null;
    if (pax) {
      if (pax.has('path')) nameBytes = pax.get('path')!;
      if (pax.has('linkpath')) linkBytes = pax.get('linkpath')!;
      if (pax.has('size')) {
        const text = pax.get('size')!.toString('latin1');
        if (!/^[0-9]{1,16}$/.test(text) || !Number.isSafeInteger(Number(text))) throw new TarFormatError('a PAX header gives no valid size');
        size = Number(text);
      }
    }
    this.#pax = this.#gnuPath = this.#gnuLink = undefined;
    // Old tars mark a directory by a trailing slash on a regular file's name.
    if (type === 'file' && nameBytes.at(-1) === 0x2f) type = 'directory';
    if (type !== null && HEADER_ONLY.has(type)) size = 0;
    const header: WalkHeader = {
      nameBytes,
      name: nameBytes.toString('utf8'),
      type,
      size,
      linkBytes,
      linkname: linkBytes?.toString('utf8') ?? null,
      pax,
    };
    return this.#begin(header, this.onEntry(header));
  }

  #begin(header: WalkHeader, given: EntrySink | undefined): void | Promise<void> {
    const content = this.#pos;
    this.#pad = padding(header.size);
    this.onSpan({ start: this.#first!, content, contentEnd: content + header.size, end: content + header.size + this.#pad, header, sink: given });
    this.#first = undefined;
    const sink = given ?? NOTHING;
    if (header.size > 0) {
      this.#sink = sink;
      this.#missing = header.size;
      return;
    }
    return sink.end();
  }

  #longDone(long: { type: string; data: Buffer }): void | Promise<void> {
    this.#long = undefined;
    if (long.type === 'gnu-long-path') this.#gnuPath = field(long.data, 0, long.data.length);
    else if (long.type === 'gnu-long-link-path') this.#gnuLink = field(long.data, 0, long.data.length);
    else if (long.type === 'pax-header') this.#pax = paxRecords(long.data);
    else {
      // A global header applies to nothing moby reads; its records are still handed over, as an entry without content.
      const pax = paxRecords(long.data);
      const name = Buffer.from(field(this.#block, 0, 100));
      const header: WalkHeader = { nameBytes: name, name: name.toString('utf8'), type: 'pax-global-header', size: 0, linkBytes: null, linkname: null, pax };
      const sink = this.onEntry(header);
      // Its records and their padding are header bytes.
      const end = this.#pos + this.#pad;
      this.onSpan({ start: this.#first!, content: end, contentEnd: end, end, header, sink });
      this.#first = undefined;
      return sink?.end();
    }
  }
}
