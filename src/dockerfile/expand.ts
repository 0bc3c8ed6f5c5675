/**
 * ARG and ENV as a build sees them, and word expansion with them.
 *
 * Mirrors moby/buildkit frontend/dockerfile:
 * - dockerfile2llb/convert.go `dispatchArg` / `buildMetaArgs`: a build-arg wins,
 *   then the ARG's default, then (inside a stage) the global ARG's value;
 * - shell/lex.go: a subset of the word lexer (see `expandWord`).
 */

/** Mutable scope while the model is built; read-only (types.ts `Vars`) once it is. */
export type Scope = Map<string, string | null>;

/** dispatchArg / buildMetaArgs: a build-arg wins, then the default, then (in a stage) the global value. */
export function declareArg(name: string, value: string | null, vars: Scope, global: ReadonlyMap<string, string | null> | undefined, buildArgs: Record<string, string>, esc: string): void {
  if (Object.hasOwn(buildArgs, name)) vars.set(name, buildArgs[name]!);
  else if (value !== null) setExpanded(vars, name, value, esc);
  else if (typeof global?.get(name) === 'string') vars.set(name, global.get(name)!);
  else if (!vars.has(name)) vars.set(name, null);
}

export function setExpanded(vars: Scope, name: string, value: string, esc: string): void {
  const v = expandWord(value, vars, esc);
  if (v === null) vars.delete(name); // unknown from here on
  else vars.set(name, v);
}

/**
 * Shell-style word expansion (a subset of BuildKit's shell.Lex): quotes, escapes,
 * $VAR, ${VAR} and ${VAR:-w} ${VAR-w} ${VAR:+w} ${VAR+w} ${VAR:?w}. Returns null when a
 * variable is not known here: it may come from the base image or need another form.
 */
export function expandWord(word: string, vars: ReadonlyMap<string, string | null>, esc: string): string | null {
  let out = '';
  let quote = '';
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    if (c === esc && quote !== "'" && i + 1 < word.length) out += word[++i];
    else if (!quote && (c === '"' || c === "'")) quote = c;
    else if (c === quote) quote = '';
    else if (c !== '$' || quote === "'") out += c;
    else {
      let [name, op, alt] = ['', '', ''];
      if (word[i + 1] === '{') {
        const close = word.indexOf('}', i);
        const m = close < 0 ? null : /^(\w+)(?:(:?[-+?])(.*))?$/s.exec(word.slice(i + 2, close));
        if (!m) return null;
        [name, op, alt] = [m[1]!, m[2] ?? '', m[3] ?? ''];
        i = close;
      } else {
        name = /^\w*/.exec(word.slice(i + 1))![0];
        if (!name) {
          out += c;
          continue;
        }
        i += name.length;
      }
      const v = vars.get(name);
      if (v === undefined) return null;
      const empty = v === null || v === '';
      let got: string | null = v; // plain, ${VAR:?w}, ${VAR?w}
      if (op === ':-') got = empty ? expandWord(alt, vars, esc) : v;
      else if (op === '-') got = v ?? expandWord(alt, vars, esc);
      else if (op === ':+') got = empty ? '' : expandWord(alt, vars, esc);
      else if (op === '+') got = v === null ? '' : expandWord(alt, vars, esc);
      if (got === null) return null;
      out += got;
    }
  }
  return out;
}
