/**
 * A secret's encoded forms: the one definition that masking (src/guards/
 * redact.ts), verify (src/verify/search.ts), the build-arg and label guard
 * (src/guards/build-args.ts) and `::add-mask::` (src/guards/github.ts) share.
 *
 * A value as tools read it: a token file written with `echo`, `gh auth token
 * > f` or `secret-tool store` ends in a newline that shells (`$(cat f)`) and
 * secbuild's own templates drop. So every form is made from the value with
 * its trailing CR/LF removed ("trimmed") and, where that differs, from the
 * value as it is:
 * - `raw`: the trimmed value (never the trailing newline itself, so masking
 *   `TOKEN\n` leaves the line end and two output lines stay two lines);
 * - `line`: for a multi-line text value (UTF-8, no NUL), each line (split on
 *   \n, a trailing \r dropped) with at least 4 visible bytes, and the line with surrounding
 *   whitespace trimmed (programs re-indent what they print);
 * - `base64`: standard base64, padded and unpadded, and the cores that stand
 *   for the value inside a larger base64 blob at each of the 3 alignments
 *   (below); each also in the URL-safe alphabet (`-_`), padded and unpadded;
 * - `url`: percent-encoded as `encodeURIComponent` does (bytes, so invalid
 *   UTF-8 works too), as RFC 3986 does (curl, Python `quote`: also `!'()*`),
 *   each with `%20` → `+`, and as WHATWG `URLSearchParams` writes it;
 * - `escaped`: a JSON string's escapes (`\"`, `\\`, `\n`, `\u0001`…), also with
 *   `\uXXXX` wherever an encoder may put one (Go's `\u0026 \u003c \u003e`,
 *   Python's `\u00e4` and surrogate pairs, .NET's `\u0027`, upper- and
 *   lower-case hex: unicodeEscapes below), XML's entities (`&amp;` `&lt;`
 *   `&gt;` `&quot;` `&apos;`), and for a value with `'`, `"` or `\` the
 *   quoting programs print it in (bash's `set -x` `'\''`, shlex.quote's
 *   `'"'"'`, YAML's and SQL's `''`, repr's `\'`, JSON inside a JSON string),
 *   for UTF-8 values;
 * - `pem`: for a PEM-style block (an SSH or TLS private key: `-----BEGIN …`),
 *   its base64 body joined into one line (a key pasted or echoed without its
 *   line breaks) and the body decoded (the key written out as binary). Its
 *   body lines are `line` forms already, so a key printed or copied into a
 *   layer is masked and found line by line.
 * Forms shorter than MIN_MASK_LENGTH (4) bytes are left out (masking `abc`
 * everywhere would shred the log and still hide nothing); `tooShortToMask`
 * lets `secbuild secrets` say so. The guard also refuses a build-arg equal to
 * any form, whatever its length.
 *
 * Base64 alignment. A value inside a larger base64 blob — docker's
 * config.json `auth` = base64("user:token"), npm's `_auth`, a Basic auth
 * header — encodes differently depending on its offset mod 3 and on the byte
 * that follows it. As the GitHub Actions runner does (actions/runner
 * src/Sdk/DTLogging/Logging/ValueEncoders.cs, docs/adrs/0297-base64-masking-
 * trailing-characters.md), but exactly: for an offset k in {0, 1, 2} the core
 * is base64(k unknown bytes + value) without the characters that mix in
 * unknown bits — the first 0, 2 or 3 and, unless (k + length) % 3 === 0, the
 * last one. A core matches wherever the value occurs inside any base64
 * stream; a masked blob may still show 1–2 characters (≤ 12 bits) around it.
 * Not covered: MIME base64 wrapped at 76 columns, hex, other transformations.
 */

export const MIN_MASK_LENGTH = 4;

export type PatternForm = 'raw' | 'line' | 'base64' | 'url' | 'escaped' | 'pem';

export interface Form {
  readonly bytes: Buffer;
  readonly form: PatternForm;
}

export interface Pattern extends Form {
  /** The secret it derives from. */
  readonly id: string;
}

/** The value without its trailing CR/LF (what `$(cat file)` and templates use). */
export function trimNewlines(value: Buffer): Buffer {
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0x0a || value[end - 1] === 0x0d)) end--;
  return value.subarray(0, end);
}

/** Whether `value` is below the length the leak guards mask (and so is never masked). */
export function tooShortToMask(value: Buffer): boolean {
  return trimNewlines(value).length < MIN_MASK_LENGTH;
}

const cache = new WeakMap<Buffer, Form[]>();

/** Every form of `value` of at least MIN_MASK_LENGTH bytes, deduplicated by bytes, in the order above. */
export function formsOf(value: Buffer): Form[] {
  const hit = cache.get(value);
  if (hit) return hit;
  const out: Form[] = [];
  const seen = new Set<string>();
  const add = (bytes: Buffer, form: PatternForm): void => {
    if (bytes.length < MIN_MASK_LENGTH) return;
    const key = bytes.toString('latin1'); // one char per byte: an exact key
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ bytes, form });
  };
  const trimmed = trimNewlines(value);
  if (trimmed.length >= MIN_MASK_LENGTH) {
    const bases = trimmed.length === value.length ? [trimmed] : [trimmed, value];
    add(Buffer.from(trimmed), 'raw');
    for (const line of linesOf(value)) add(line, 'line');
    for (const v of bases) for (const text of base64Forms(v)) add(Buffer.from(text, 'latin1'), 'base64');
    for (const v of bases) for (const bytes of urlForms(v)) add(bytes, 'url');
    for (const v of bases) for (const bytes of escapedForms(v)) add(bytes, 'escaped');
    for (const bytes of pemForms(trimmed)) add(bytes, 'pem');
  }
  cache.set(value, out);
  return out;
}

/** The patterns that mask `secrets`, deduplicated by bytes across secrets (the first keeps a shared one). */
export function patternsFor(secrets: readonly { id: string; value: Buffer }[]): Pattern[] {
  const out: Pattern[] = [];
  const seen = new Set<string>();
  for (const { id, value } of secrets) {
    for (const f of formsOf(value)) {
      const key = f.bytes.toString('latin1');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(new MaskPattern(f.bytes, id, f.form));
    }
  }
  return out;
}

/** Whether `text` carries `value`: equal to it or to one of its forms (any length), or containing a form. */
export function carries(text: Buffer, value: Buffer): boolean {
  if (value.length === 0) return false;
  if (text.equals(value) || text.equals(trimNewlines(value))) return true;
  return formsOf(value).some((f) => text.includes(f.bytes));
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

/** Lines of a text value (valid UTF-8 without NUL); a binary value's 0x0a bytes do not make lines anyone prints. */
function linesOf(value: Buffer): Buffer[] {
  if (!trimNewlines(value).includes(0x0a) || value.includes(0) || !Buffer.from(value.toString('utf8'), 'utf8').equals(value)) return [];
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
  const urlSafe = forms.filter((f) => /[+/]/.test(f)).map((f) => f.replace(/\+/g, '-').replace(/\//g, '_'));
  return [...forms, ...urlSafe, ...urlSafe.map((f) => f.replace(/=+$/, ''))];
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

/** `encodeURIComponent` byte by byte (so any value works): what `${name|url}` in a template writes. */
export function uriComponent(value: Buffer): Buffer {
  return Buffer.from(percentEncode(value, URI_COMPONENT), 'latin1');
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

const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

function escapedForms(value: Buffer): Buffer[] {
  const text = value.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(value)) return []; // not UTF-8: no string escapes
  const json = JSON.stringify(text).slice(1, -1);
  const slash = json.replace(/\//g, '\\/'); // PHP's json_encode, some Java writers
  const xml = text.replace(/[&<>"']/g, (c) => XML[c]!);
  // Most values (tokens of letters, digits, `-_.`) have no character any encoder escapes: no more forms.
  const unicode = /[^\x20-\x7e]|[&<>'+`"]/.test(text) ? unicodeEscapes(text) : [];
  // How programs quote a value with ' " or \ when they print it: bash's `set -x` ('\''), Python's
  // shlex.quote ('"'"'), YAML and SQL single-quoted (''), Python's repr and JS source (\'), JSON in a JSON string.
  const quoted = /['"\\]/.test(text)
    ? [text.replace(/'/g, "'\\''"), text.replace(/'/g, `'"'"'`), text.replace(/'/g, "''"), text.replace(/\\/g, '\\\\').replace(/'/g, "\\'"), JSON.stringify(json).slice(1, -1)]
    : [];
  return [json, slash, xml, ...unicode, ...quoted].filter((s) => s !== text).map((s) => Buffer.from(s, 'utf8'));
}

const GO_HTML = '&<>\u2028\u2029';
const DOTNET = "\"&'+<>`";
const nonAscii = (cp: number) => cp >= 0x7f;

/**
 * A JSON string body with `\uXXXX` escapes where encoders other than
 * JSON.stringify put them (each adds a form only where it differs):
 * - Go's encoding/json: `&` `<` `>` U+2028 U+2029 (HTML-safe by default),
 *   and before Go 1.22 `\b` `\f` as `\u0008` `\u000c`;
 * - Python's json.dumps (ensure_ascii) and Jackson's ESCAPE_NON_ASCII: every
 *   character from U+007F, an astral one as a surrogate pair (lower- and
 *   upper-case hex);
 * - .NET System.Text.Json's default encoder: `"&'+<>` and the backtick too,
 *   upper-case hex (and lower-case, for PHP's JSON_HEX_* flags' kin).
 */
function unicodeEscapes(text: string): string[] {
  return [
    jsonUnicode(text, (cp) => GO_HTML.includes(String.fromCodePoint(cp)), false, true),
    jsonUnicode(text, (cp) => GO_HTML.includes(String.fromCodePoint(cp)), false, false),
    jsonUnicode(text, nonAscii, false, true),
    jsonUnicode(text, nonAscii, true, true),
    jsonUnicode(text, (cp) => nonAscii(cp) || DOTNET.includes(String.fromCodePoint(cp)), true, true),
    jsonUnicode(text, (cp) => nonAscii(cp) || DOTNET.includes(String.fromCodePoint(cp)), false, true),
  ];
}

const SHORT: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

function jsonUnicode(text: string, escape: (cp: number) => boolean, upper: boolean, shortBF: boolean): string {
  const u = (unit: number) => `\\u${(upper ? unit.toString(16).toUpperCase() : unit.toString(16)).padStart(4, '0')}`;
  let out = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    const short = SHORT[c];
    if (short !== undefined && !(c === '"' && escape(cp)) && (shortBF || (c !== '\b' && c !== '\f'))) out += short;
    else if (cp < 0x20 || escape(cp)) out += c.length === 2 ? u(c.charCodeAt(0)) + u(c.charCodeAt(1)) : u(cp);
    else out += c;
  }
  return out;
}

const PEM_BLOCK = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n-----END \1-----$/;

/** A PEM-style block's body (headers such as `Proc-Type:` dropped): joined into one line, and decoded. */
function pemForms(value: Buffer): Buffer[] {
  const m = PEM_BLOCK.exec(value.toString('latin1').trim());
  if (!m) return [];
  const body = m[2]!.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !/^[A-Za-z-]+:/.test(l)).join('');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return [];
  return [Buffer.from(body, 'latin1'), Buffer.from(body, 'base64')];
}
