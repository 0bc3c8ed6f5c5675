/**
 * Compose's variable interpolation and `.env` files, as compose-go does them.
 *
 * Interpolation mirrors compose-spec/compose-go template/template.go:
 * `$$` is a literal `$`; `$VAR` and `${VAR}` (unset: empty, with a warning);
 * `${VAR:-w}` / `${VAR-w}` default when unset-or-empty / unset; `${VAR:+w}` /
 * `${VAR+w}` replacement when set-and-non-empty / set; `${VAR:?err}` /
 * `${VAR?err}` fail when unset-or-empty / unset. The word `w` is interpolated
 * itself, braces nest. A `$` followed by anything else stays literal; `${` that
 * does not form one of the above is an error ("Invalid template").
 *
 * `.env` parsing is the subset of compose-go dotenv/parser.go that real files
 * use: comments, `export `, unquoted values (inline ` #` comment stripped, then
 * trimmed), '…' literal and "…" with escapes; unquoted and "…" values are
 * interpolated. Pure: no I/O.
 */

export type Lookup = (name: string) => string | undefined;

export class InterpolationError extends Error {
  override name = 'InterpolationError';
}

export interface Interpolation {
  value: string;
  /** Variables the text read (for leak checks and warnings). */
  used: string[];
  /** Variables read with plain $VAR / ${VAR} while unset: Compose warns and uses "". */
  unset: string[];
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;
const BRACED = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[-+?])([\s\S]*))?$/;

/** compose-go getFirstBraceClosingIndex: counts every `{` and `}` from the `${`. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

export function interpolate(text: string, lookup: Lookup): Interpolation {
  const used: string[] = [];
  const unset: string[] = [];
  const get = (name: string) => {
    used.push(name);
    return lookup(name);
  };
  const run = (s: string): string => {
    let out = '';
    for (let i = 0; i < s.length; i++) {
      const c = s[i]!;
      if (c !== '$') {
        out += c;
        continue;
      }
      const next = s[i + 1];
      if (next === '$') {
        out += '$';
        i++;
        continue;
      }
      const named = NAME.exec(s.slice(i + 1));
      if (named) {
        const v = get(named[0]);
        if (v === undefined) unset.push(named[0]);
        out += v ?? '';
        i += named[0].length;
        continue;
      }
      if (next !== '{') {
        out += c;
        continue;
      }
      const close = closingBrace(s, i + 1);
      const m = close < 0 ? null : BRACED.exec(s.slice(i + 2, close));
      if (!m) throw new InterpolationError(`invalid interpolation "${s.slice(i, close < 0 ? undefined : close + 1)}"`);
      const [, name, op = '', word = ''] = m;
      const v = get(name!);
      const empty = v === undefined || v === '';
      if (op === '') {
        if (v === undefined) unset.push(name!);
        out += v ?? '';
      } else if (op === ':-') out += empty ? run(word) : v;
      else if (op === '-') out += v === undefined ? run(word) : v;
      else if (op === ':+') out += empty ? (v ?? '') : run(word);
      else if (op === '+') out += v === undefined ? '' : run(word);
      else {
        const message = run(word);
        if (op === ':?' ? empty : v === undefined) {
          throw new InterpolationError(`required variable ${name} is missing a value${message ? `: ${message}` : ''}`);
        }
        out += v;
      }
      i = close;
    }
    return out;
  };
  const value = run(text);
  return { value, used: [...new Set(used)], unset: [...new Set(unset)] };
}

/**
 * Parses a `.env` file. `lookup` gives the variables interpolation may read
 * besides those defined earlier in the file (the process environment first, as
 * compose-go does). Throws InterpolationError with a line number.
 */
export function parseDotenv(text: string, lookup: Lookup): Map<string, string> {
  const vars = new Map<string, string>();
  const get: Lookup = (name) => lookup(name) ?? vars.get(name);
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=)?\s*/.exec(line);
    if (!m) throw new InterpolationError(`line ${n + 1}: expected KEY=VALUE`);
    const key = m[1]!;
    if (!m[2]) {
      // `KEY` alone: inherit it from the environment when set.
      if (line.slice(m[0].length).trim() !== '') throw new InterpolationError(`line ${n + 1}: expected KEY=VALUE`);
      const v = lookup(key);
      if (v !== undefined) vars.set(key, v);
      continue;
    }
    let rest = line.slice(m[0].length);
    const quote = rest[0];
    if (quote === "'" || quote === '"') {
      // A quoted value may span lines.
      let body = rest.slice(1);
      let end = findClose(body, quote);
      while (end < 0 && n + 1 < lines.length) {
        body += `\n${lines[++n]}`;
        end = findClose(body, quote);
      }
      if (end < 0) throw new InterpolationError(`line ${n + 1}: unterminated ${quote}-quoted value for ${key}`);
      const raw = body.slice(0, end);
      vars.set(key, quote === "'" ? raw : withLine(n, () => interpolate(unescape(raw), get).value));
      continue;
    }
    rest = rest.replace(/\s+#.*$/, '').trim();
    vars.set(key, withLine(n, () => interpolate(rest, get).value));
  }
  return vars;
}

function findClose(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (quote === '"' && body[i] === '\\') i++;
    else if (body[i] === quote) return i;
  }
  return -1;
}

function unescape(raw: string): string {
  return raw.replace(/\\([\\"nrt$])/g, (_m, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? (c === '$' ? '$$' : c));
}

function withLine<T>(n: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof InterpolationError) throw new InterpolationError(`line ${n + 1}: ${err.message}`);
    throw err;
  }
}
