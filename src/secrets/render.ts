/**
 * Credential files rendered from resolved values: .netrc, .npmrc and generic
 * `${name}` templates. Output is assembled from Buffers so values are written
 * byte-exact; a value that would break the file's syntax is refused (the error
 * names the field, never the value).
 */
import type { NetrcEntry, NpmrcEntry } from './spec.js';
import { registryKey } from './spec.js';
import { trimNewlines, uriComponent } from './forms.js';

export class FieldError extends Error {
  override name = 'FieldError';
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

function hasByte(value: Buffer, set: Set<number>): boolean {
  for (const b of value) if (set.has(b)) return true;
  return false;
}

const NEWLINES = new Set([0x0a, 0x0d]);

/** Field value for a netrc token: no whitespace at all (netrc separates tokens by whitespace). */
export function netrcToken(field: string, value: Buffer): Buffer {
  const v = trimNewlines(value);
  if (v.length === 0) throw new FieldError(`${field} is empty`);
  if (hasByte(v, WHITESPACE)) throw new FieldError(`${field} contains whitespace, which would split the .netrc entry; check the value's source`);
  return v;
}

/** Field value for an .npmrc line: no line breaks, no surrounding spaces (npm's ini parser trims them). */
export function npmrcValue(field: string, value: Buffer): Buffer {
  const v = trimNewlines(value);
  if (v.length === 0) throw new FieldError(`${field} is empty`);
  if (hasByte(v, NEWLINES)) throw new FieldError(`${field} contains a line break, which would break the .npmrc line; check the value's source`);
  if (WHITESPACE.has(v[0]!) || WHITESPACE.has(v[v.length - 1]!)) throw new FieldError(`${field} starts or ends with whitespace, which npm would trim`);
  return v;
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
    const key = registryKey('npmrc', e.registry);
    const token = npmrcValue(`npmrc entry ${i + 1} (${e.registry}) token`, value('token', 'token', i));
    if (e.scope) parts.push(Buffer.from(`${e.scope}:registry=${e.registry}\n`));
    parts.push(Buffer.from(`${key}:_authToken=`), token, Buffer.from('\n'));
  });
  return Buffer.concat(parts);
}

const PLACEHOLDER = /\$\$|\$\{([^}]*)\}/g;

/** Filters a placeholder may name after `|`: `${pass|url}` percent-encodes the value. */
const FILTERS = ['url'] as const;
type Filter = (typeof FILTERS)[number];

function parsePlaceholder(inner: string): { name: string; filter?: Filter } {
  const bar = inner.indexOf('|');
  if (bar === -1) return { name: inner };
  const filter = inner.slice(bar + 1).trim();
  if (!(FILTERS as readonly string[]).includes(filter)) {
    throw new FieldError(`placeholder \${${inner}} names an unknown filter "${filter}"; the filters are: ${FILTERS.join(', ')}`);
  }
  return { name: inner.slice(0, bar).trim(), filter: filter as Filter };
}

/**
 * Names used by a `${name}` template (also `${name|url}`), with the line each
 * first appears on. `$$` is a literal `$`. Throws FieldError for an unknown filter.
 */
export function templateNames(text: string): Map<string, number> {
  const names = new Map<string, number>();
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m[0] === '$$') continue;
    const line = text.slice(0, m.index).split('\n').length;
    let name: string;
    try {
      name = parsePlaceholder(m[1]!).name;
    } catch (err) {
      throw new FieldError(`line ${line}: ${(err as Error).message}`);
    }
    if (!names.has(name)) names.set(name, line);
  }
  return names;
}

export function renderTemplate(text: string, value: (name: string) => Buffer): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    parts.push(Buffer.from(text.slice(last, m.index), 'utf8'));
    if (m[0] === '$$') parts.push(Buffer.from('$'));
    else {
      const { name, filter } = parsePlaceholder(m[1]!);
      const v = templateValue(`placeholder \${${m[1]}}`, value(name));
      parts.push(filter === 'url' ? uriComponent(v) : v);
    }
    last = m.index! + m[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}
