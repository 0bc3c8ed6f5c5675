/**
 * Credential files rendered from resolved values: .netrc, .npmrc and generic
 * `${name}` templates. Output is assembled from Buffers so values are written
 * byte-exact. Each field is written so that the tool reading the file reads
 * back exactly the value, or it is refused (the error names the field and the
 * character, never the value):
 *
 * - .netrc (curl and git through libcurl lib/netrc.c, Python's netrc module
 *   that pip and requests use, Go's cmd/go/internal/auth/netrc.go): a value
 *   is written as it is. Refused: whitespace and control characters (they end
 *   a token); a leading `"` (curl 7.84+ and Python read a quoted string,
 *   curl before 7.84 and Go read the quote); a leading `#` (curl 7.84+ reads a
 *   comment); a `\` anywhere (Python reads an escape, curl and Go do not).
 *   Readers disagree on quoting, so no quoted form is written.
 * - .npmrc (npm's `ini` package, then @npmcli/config lib/parse-field.js and
 *   lib/env-replace.js): a plain value is written as it is; one holding
 *   `;`, `#`, `\`, `"`, `'`, `$` or U+2028/U+2029 is written as a JSON string
 *   (ini JSON-parses a double-quoted value), with `${VAR}` escaped so npm does
 *   not replace it from the environment. Refused: line breaks and other control
 *   characters, surrounding whitespace (npm trims it), bytes that are not UTF-8
 *   (npm reads the file as UTF-8), and the words true, false, null and undefined
 *   (npm reads them as another type).
 * - templates: any byte but a line break; the template's author chose the format.
 */
import type { FieldValue, NetrcEntry, NpmrcEntry, SecretSpec } from './spec.js';
import { checkScope, registryKey } from './spec.js';
import { trimNewlines, uriComponent } from './forms.js';

export class FieldError extends Error {
  override name = 'FieldError';
}

/** A template that cannot be read as one: `line` is where (1-based), `reason` is the sentence. */
export class TemplateError extends FieldError {
  override name = 'TemplateError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

function hasByte(value: Buffer, set: Set<number>): boolean {
  for (const b of value) if (set.has(b)) return true;
  return false;
}

function hasControl(value: Buffer): boolean {
  for (const b of value) if (b < 0x20 || b === 0x7f) return true;
  return false;
}

const NEWLINES = new Set([0x0a, 0x0d]);

/** The end of a refusal: what to do instead. */
const NETRC_FIX = 'use a value without it, or write the file with a template: secret';

/** Field value for a netrc token, written as it is (see the header for what is refused and why). */
export function netrcToken(field: string, value: Buffer): Buffer {
  const v = trimNewlines(value);
  if (v.length === 0) throw new FieldError(`${field} is empty`);
  if (hasByte(v, WHITESPACE)) throw new FieldError(`${field} contains whitespace, which would split the .netrc entry; check the value's source`);
  if (hasControl(v)) throw new FieldError(`${field} contains a control character, which .netrc readers end a token at; check the value's source`);
  if (v[0] === 0x22) throw new FieldError(`${field} starts with '"', which curl 7.84 and later read as a quoted string and older curl as a quote; ${NETRC_FIX}`);
  if (v[0] === 0x23) throw new FieldError(`${field} starts with "#", which curl 7.84 and later read as the start of a comment; ${NETRC_FIX}`);
  if (v.includes(0x5c)) throw new FieldError(`${field} contains a backslash, which Python's netrc module (pip, requests) reads as an escape and curl does not; ${NETRC_FIX}`);
  return v;
}

/** ignoreBOM keeps a leading U+FEFF in the text (then refused as whitespace), instead of dropping it. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** @npmcli/config lib/env-replace.js: `${NAME}` or `${NAME?}`, after a run of backslashes. */
const NPM_ENV = /(?<!\\)(\\*)\$\{([^${}?]+)(\?)?\}/g;

/**
 * A string as an .npmrc value that npm reads back unchanged: as it is when it
 * is plain, else as a JSON string. Inside it, a `${VAR}` after k backslashes
 * gets 2k+1 of them: npm's env-replace then drops k+1 and keeps `${VAR}`.
 */
export function npmrcString(field: string, text: string): string {
  if (/[\r\n]/.test(text)) throw new FieldError(`${field} contains a line break, which would break the .npmrc line; check the value's source`);
  if (text !== text.trim()) throw new FieldError(`${field} starts or ends with whitespace, which npm would trim`);
  if (/[\x00-\x1f\x7f]/.test(text)) throw new FieldError(`${field} contains a control character, which npm would not read back; check the value's source`);
  if (['true', 'false', 'null', 'undefined'].includes(text)) {
    throw new FieldError(`${field} is one of the words true, false, null or undefined, which npm reads as a value of another type; check the value's source`);
  }
  if (!/[;#\\"'$\u2028\u2029]/.test(text)) return text;
  const escaped = text.replace(NPM_ENV, (m, slashes: string) => `${'\\'.repeat(2 * slashes.length + 1)}${m.slice(slashes.length)}`);
  // ini reads a line with a JavaScript regex whose `.` stops at U+2028/U+2029.
  return JSON.stringify(escaped).replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029');
}

/** Field value for an .npmrc line (see npmrcString), from the value's bytes. */
export function npmrcValue(field: string, value: Buffer): Buffer {
  const v = trimNewlines(value);
  if (v.length === 0) throw new FieldError(`${field} is empty`);
  let text: string;
  try {
    text = UTF8.decode(v);
  } catch {
    throw new FieldError(`${field} is not valid UTF-8, which npm (reading .npmrc as UTF-8) cannot read back; check the value's source`);
  }
  return Buffer.from(npmrcString(field, text), 'utf8');
}

/** Field value for a generic template: no line breaks inside (trailing ones dropped). */
export function templateValue(field: string, value: Buffer): Buffer {
  const v = trimNewlines(value);
  if (hasByte(v, NEWLINES)) throw new FieldError(`${field} contains a line break, which a one-line placeholder cannot hold; check the value's source`);
  return v;
}

export type FieldLookup = (field: string, which: 'login' | 'password' | 'token', index: number) => Buffer;

export function renderNetrc(entries: readonly NetrcEntry[], value: FieldLookup): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    const login = netrcToken(`netrc entry ${i + 1} (${e.machine}) login`, value(`login`, 'login', i));
    const password = netrcToken(`netrc entry ${i + 1} (${e.machine}) password`, value('password', 'password', i));
    parts.push(Buffer.from(`machine ${e.machine}\n  login `), login, Buffer.from('\n  password '), password, Buffer.from('\n'));
  });
  return Buffer.concat(parts);
}

export function renderNpmrc(entries: readonly NpmrcEntry[], value: FieldLookup): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    // Checked when parsed too; again here, as this is what writes the lines.
    const key = registryKey(`npmrc entry ${i + 1} registry`, e.registry);
    checkScope(`npmrc entry ${i + 1} scope`, e.scope);
    const token = npmrcValue(`npmrc entry ${i + 1} (${e.registry}) token`, value('token', 'token', i));
    if (e.scope) parts.push(Buffer.from(`${e.scope}:registry=${npmrcString(`npmrc entry ${i + 1} registry`, e.registry)}\n`));
    parts.push(Buffer.from(`${key}:_authToken=`), token, Buffer.from('\n'));
  });
  return Buffer.concat(parts);
}

/**
 * `$$`, a placeholder closed on its line (no `$`, `{` or newline inside), or a
 * `${` that is not (refused: it would otherwise be written out literally, and
 * a typo would go unnoticed).
 */
const PLACEHOLDER = /\$\$|\$\{([^${}\n]*)\}|\$\{/g;

/** Filters a placeholder may name after `|`: `${pass|url}` percent-encodes the value. */
const FILTERS = ['url'] as const;
type Filter = (typeof FILTERS)[number];

interface Placeholder {
  /** Offset and length in the template text. */
  index: number;
  length: number;
  /** undefined for `$$` (a literal `$`). */
  name?: string;
  filter?: Filter;
  /** The text between the braces, for messages. */
  inner?: string;
}

/** Every `$$` and `${…}` of a template, in order. Throws TemplateError (with the line) for one it cannot read. */
function placeholders(text: string): Placeholder[] {
  const out: Placeholder[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) {
    const at = { index: m.index, length: m[0].length };
    if (m[0] === '$$') {
      out.push(at);
      continue;
    }
    const line = text.slice(0, m.index).split('\n').length;
    if (m[1] === undefined) {
      throw new TemplateError(line, `"\${" is not closed by "}" on the same line; close the placeholder, or write $\${ for a literal "\${"`);
    }
    const inner = m[1];
    const bar = inner.indexOf('|');
    if (bar === -1) {
      out.push({ ...at, name: inner, inner });
      continue;
    }
    const filter = inner.slice(bar + 1).trim();
    if (!(FILTERS as readonly string[]).includes(filter)) {
      throw new TemplateError(line, `placeholder \${${inner}} names an unknown filter "${filter}"; the filters are: ${FILTERS.join(', ')}`);
    }
    out.push({ ...at, name: inner.slice(0, bar).trim(), filter: filter as Filter, inner });
  }
  return out;
}

/**
 * Names used by a `${name}` template (also `${name|url}`), with the line each
 * first appears on. `$$` is a literal `$`. Throws TemplateError for an unknown
 * filter or a `${` left open.
 */
export function templateNames(text: string): Map<string, number> {
  const names = new Map<string, number>();
  for (const p of placeholders(text)) {
    if (p.name !== undefined && !names.has(p.name)) names.set(p.name, text.slice(0, p.index).split('\n').length);
  }
  return names;
}

export function renderTemplate(text: string, value: (name: string) => Buffer): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const p of placeholders(text)) {
    parts.push(Buffer.from(text.slice(last, p.index), 'utf8'));
    if (p.name === undefined) parts.push(Buffer.from('$'));
    else {
      const v = templateValue(`placeholder \${${p.inner}}`, value(p.name));
      parts.push(p.filter === 'url' ? uriComponent(v) : v);
    }
    last = p.index + p.length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * What each input secret feeds, for people: id → "the .netrc file",
 * "the .npmrc file", "template pip_conf" (a file whose id is not the default
 * is named: `the .netrc file "gh_netrc"`). Templates not read yet, or that
 * cannot be, feed nothing here (resolving says why).
 */
/** The fields of a .netrc or .npmrc spec (each entry's login and password, or each token), in order; none for other kinds. */
export function specFields(s: SecretSpec): FieldValue[] {
  if (s.kind === 'netrc') return s.entries.flatMap((e) => [e.login, e.password]);
  if (s.kind === 'npmrc') return s.entries.map((e) => e.token);
  return [];
}

export function inputUses(specs: readonly SecretSpec[]): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  const add = (name: string, use: string) => {
    const list = uses.get(name) ?? [];
    if (!list.includes(use)) list.push(use);
    uses.set(name, list);
  };
  for (const s of specs) {
    if (s.kind === 'netrc' || s.kind === 'npmrc') {
      const use = `the .${s.kind} file${s.id === s.kind ? '' : ` "${s.id}"`}`;
      for (const f of specFields(s)) if (f.kind === 'secret') add(f.name, use);
    } else if (s.kind === 'template' && s.text !== undefined) {
      let names: string[] = [];
      try {
        names = [...templateNames(s.text).keys()];
      } catch {
        // an invalid template: resolving reports it
      }
      for (const n of names) add(n, `template ${s.id}`);
    }
  }
  return uses;
}
