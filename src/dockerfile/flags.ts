/**
 * An instruction's leading `--flag` words, and the small Go readers the flag
 * values need.
 *
 * Mirrors moby/buildkit frontend/dockerfile:
 * - parser/line_parsers.go `extractBuilderFlags`: how `--flag` words are quoted;
 * - instructions/bflag.go: flags stop at the first word that is not one, and at `--`.
 * dockerfile-ast has getFlags(), but it splits quoted values at spaces, so the
 * flags are re-read from the text here.
 */
import type { Flag } from './types.js';

/** The leading `--name[=value]` words of the instruction starting on 0-based line `first`, quoted and continued as BuildKit reads them. */
export function leadingFlags(lines: readonly string[], first: number, esc: string): Flag[] {
  const cont = new RegExp(`${esc.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}[ \\t]*$`);
  let s = '';
  const lineAt: number[] = [];
  for (let n = first; n < lines.length; n++) {
    const raw = lines[n]!;
    if (n > first && /^\s*(#.*)?$/.test(raw)) continue; // comments and blank lines inside a continuation
    const m = cont.exec(raw);
    const body = m ? raw.slice(0, m.index) : raw;
    s += body;
    for (let k = 0; k < body.length; k++) lineAt.push(n + 1);
    if (!m) break;
  }
  const out: Flag[] = [];
  let pos = /^\s*\S+/.exec(s)?.[0].length ?? s.length; // skip the keyword
  for (;;) {
    while (pos < s.length && /\s/.test(s[pos]!)) pos++;
    if (!s.startsWith('--', pos)) return out;
    const start = pos;
    let word = '';
    let quote = '';
    for (; pos < s.length && (quote || !/\s/.test(s[pos]!)); pos++) {
      const c = s[pos]!;
      if (!quote && (c === '"' || c === "'")) quote = c;
      else if (quote && c === quote) quote = '';
      else if (c === '\\') word += s[++pos] ?? '';
      else word += c;
    }
    if (word === '--') return out;
    const eq = word.indexOf('=');
    out.push({ name: eq < 0 ? word.slice(2) : word.slice(2, eq), value: eq < 0 ? null : word.slice(eq + 1), line: lineAt[start]! });
  }
}

/** Go encoding/csv, one record, default options: a quote may only open a field; "" is a quote inside one. */
export function splitCsv(s: string): string[] | null {
  const field = /(?:"((?:[^"]|"")*)"|([^,"]*))(,|$)/y;
  const out: string[] = [];
  for (let m; s && (m = field.exec(s)); ) {
    out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!);
    if (!m[3]) return field.lastIndex === s.length ? out : null;
  }
  return null;
}

/** strconv.ParseBool's true spellings. */
export const GO_TRUE: ReadonlySet<string> = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

/** Go path.Base. */
export function goBase(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' ? (p ? '/' : '.') : trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
