/**
 * What the leak guard looks for: the byte patterns derived from each secret.
 *
 * For every value of at least MIN_MASK_LENGTH (4) bytes:
 * - `raw`: the value itself.
 * - `line`: for a multi-line value, each line (split on \n, a trailing \r
 *   dropped) with at least 4 visible (non-whitespace) bytes, and the same line
 *   with surrounding whitespace trimmed (programs re-indent what they print).
 * - `base64`: `Buffer#toString('base64')` with and without `=` padding, and
 *   the aligned cores described below; each also in the URL-safe alphabet
 *   (`-_`, unpadded) when that differs (JWTs, URL-safe tokens).
 * - `url`: percent-encoded as by `encodeURIComponent` (bytes, so invalid UTF-8
 *   works too), by RFC 3986 (curl, Python `quote`, PHP `rawurlencode`: also
 *   escapes `!'()*`), each with `%20` → `+` (form encoding, Go
 *   `QueryEscape`), and as WHATWG `URLSearchParams` writes it.
 * Shorter values are not masked at all (masking `abc` everywhere would shred
 * the log and still hide nothing); `tooShortToMask` lets `secbuild secrets`
 * say so. Patterns are deduplicated by bytes; the first secret keeps them.
 *
 * Base64 alignment. A value inside a larger base64 blob — docker's
 * config.json `auth` = base64("user:token"), a Basic auth header, a
 * base64'd .npmrc — encodes differently depending on its offset mod 3 and on
 * the byte that follows it. gitleaks handles this on the decode side (finds
 * base64 runs and decodes them, `--max-decode-depth`, v8.20); the GitHub
 * Actions runner encodes: base64 of the value and of the value without its
 * first 1 and 2 bytes, with `=` and the last, suffix-dependent character
 * trimmed (actions/runner src/Sdk/DTLogging/Logging/ValueEncoders.cs,
 * docs/adrs/0297-base64-masking-trailing-characters.md). A multi-pattern DFA
 * makes extra patterns cost table memory, not scan time, so we do the exact
 * version of that: for an offset k in {0, 1, 2}, the core is the base64 of
 * (k unknown bytes + value) minus the characters that mix in unknown bits —
 * the first 0, 2 or 3 characters and, unless (k + length) % 3 === 0, the last
 * one. Such a core matches wherever the value occurs inside any base64
 * stream; a masked blob may still show 1–2 characters (≤ 12 bits) around it.
 * Not covered: MIME base64 wrapped at 76 columns, hex, JSON/XML escaping.
 */

export const MIN_MASK_LENGTH = 4;

export type PatternForm = 'raw' | 'line' | 'base64' | 'url';

export interface Pattern {
  readonly bytes: Buffer;
  /** The secret it derives from. */
  readonly id: string;
  readonly form: PatternForm;
}

/** Whether `value` is below the length the leak guard masks (and so is never masked). */
export function tooShortToMask(value: Buffer): boolean {
  return value.length < MIN_MASK_LENGTH;
}

/** The patterns that mask `secrets`, deduplicated by bytes, in secret order. */
export function patternsFor(secrets: readonly { id: string; value: Buffer }[]): Pattern[] {
  const out: Pattern[] = [];
  const seen = new Set<string>();
  const add = (bytes: Buffer, id: string, form: PatternForm): void => {
    if (bytes.length < MIN_MASK_LENGTH) return;
    const key = bytes.toString('latin1'); // one char per byte: an exact key
    if (seen.has(key)) return;
    seen.add(key);
    out.push(new MaskPattern(bytes, id, form));
  };
  for (const { id, value } of secrets) {
    if (tooShortToMask(value)) continue;
    add(Buffer.from(value), id, 'raw');
    for (const line of linesOf(value)) add(line, id, 'line');
    for (const text of base64Forms(value)) add(Buffer.from(text, 'latin1'), id, 'base64');
    for (const bytes of urlForms(value)) add(bytes, id, 'url');
  }
  return out;
}

/** A Pattern that, like Secret, never prints its bytes. */
class MaskPattern implements Pattern {
  readonly #bytes: Buffer;

  constructor(bytes: Buffer, readonly id: string, readonly form: PatternForm) {
    this.#bytes = bytes;
  }

  get bytes(): Buffer {
    return this.#bytes;
  }

  toJSON(): { id: string; form: PatternForm; bytes: number } {
    return { id: this.id, form: this.form, bytes: this.#bytes.length };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Pattern(${this.id}, ${this.form}, ${this.#bytes.length} bytes)`;
  }
}

const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

function visibleBytes(bytes: Buffer): number {
  let n = 0;
  for (const b of bytes) if (!isSpace(b)) n++;
  return n;
}

function linesOf(value: Buffer): Buffer[] {
  if (!value.includes(0x0a)) return [];
  const lines: Buffer[] = [];
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(0x0a, start);
    if (end < 0) end = value.length;
    let line = value.subarray(start, end);
    if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
    if (visibleBytes(line) >= MIN_MASK_LENGTH) {
      lines.push(Buffer.from(line));
      let a = 0;
      let b = line.length;
      while (isSpace(line[a]!)) a++;
      while (isSpace(line[b - 1]!)) b--;
      lines.push(Buffer.from(line.subarray(a, b)));
    }
    start = end + 1;
  }
  return lines;
}

function base64Forms(value: Buffer): string[] {
  const padded = value.toString('base64');
  const forms = [padded, padded.replace(/=+$/, '')];
  for (const k of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(k), value]).toString('base64').replace(/=+$/, '');
    const head = [0, 2, 3][k]!;
    const tail = (k + value.length) % 3 === 0 ? 0 : 1;
    forms.push(encoded.slice(head, encoded.length - tail));
  }
  const urlSafe = forms.filter((f) => /[+/]/.test(f)).map((f) => f.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  return [...forms, ...urlSafe];
}

// Bytes each encoder leaves alone (besides A-Z a-z 0-9).
const URI_COMPONENT = "-_.!~*'()";
const RFC_3986 = '-_.~';
const WHATWG_FORM = '*-._';

function urlForms(value: Buffer): Buffer[] {
  const component = percentEncode(value, URI_COMPONENT);
  const strict = percentEncode(value, RFC_3986);
  const form = percentEncode(value, WHATWG_FORM).replace(/%20/g, '+');
  return [component, component.replace(/%20/g, '+'), strict, strict.replace(/%20/g, '+'), form].map((s) => Buffer.from(s, 'latin1'));
}

function percentEncode(value: Buffer, keep: string): string {
  let out = '';
  for (const b of value) {
    const c = String.fromCharCode(b);
    const alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
    out += alnum || keep.includes(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
