/**
 * `secret-written-to-layer`: does a RUN script copy a mounted secret into a
 * file that stays in the layer? A small POSIX-shell reader, not a shell: it
 * splits a script into pipelines of simple commands (quotes, escapes, `$(…)`,
 * backticks, comments, `;` `&&` `||` `|` `&` newlines, redirections), then
 * looks for the three ways a secret's path ends up in a file:
 *
 * - `cp`/`install` SECRET DEST;
 * - a pipeline that reads SECRET (names its path, or `< SECRET`, or `$(cat SECRET)`)
 *   and writes its output to a file: `> FILE`, `>> FILE`, `>| FILE`, `&> FILE`, `| tee FILE`.
 *
 * Not leaks: destinations under /dev (/dev/shm, /dev/null), under a tmpfs,
 * cache or bind mount of the same RUN, or removed by a later `rm` in it. /tmp is
 * NOT exempt by itself: it is part of the image's filesystem, so a file written
 * there is in the layer unless /tmp is a tmpfs mount of that RUN. Relative
 * destinations count (WORKDIR is not followed). A secret read through an env=
 * mount or a variable is not followed.
 */

interface Redirect {
  op: string;
  target: string;
}
export interface SimpleCommand {
  words: string[];
  redirects: Redirect[];
}
export type Pipeline = SimpleCommand[];

/** Splits a script into pipelines. Never throws: unbalanced quotes end at the end of the text. */
export function parseScript(text: string): Pipeline[] {
  const pipelines: Pipeline[] = [];
  let pipeline: Pipeline = [];
  let cmd: SimpleCommand = { words: [], redirects: [] };
  let word: string | null = null;
  let pendingOp: string | null = null;

  const endWord = () => {
    if (word === null) return;
    if (pendingOp !== null) cmd.redirects.push({ op: pendingOp, target: word });
    else cmd.words.push(word);
    word = null;
    pendingOp = null;
  };
  const endCommand = () => {
    endWord();
    pendingOp = null; // a redirection without a target
    if (cmd.words.length || cmd.redirects.length) pipeline.push(cmd);
    cmd = { words: [], redirects: [] };
  };
  const endPipeline = () => {
    endCommand();
    if (pipeline.length) pipelines.push(pipeline);
    pipeline = [];
  };

  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      if (text[i + 1] === '\n') i++; // line continuation
      else word = (word ?? '') + (text[++i] ?? '');
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      const stop = end < 0 ? text.length : end;
      word = (word ?? '') + text.slice(i + 1, stop);
      i = stop;
    } else if (c === '"') {
      let s = '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length && '$`"\\\n'.includes(text[i + 1]!)) s += text[++i];
        else if (text[i] === '$' && text[i + 1] === '(') [s, i] = [s + readParens(text, i), skipParens(text, i)];
        else s += text[i];
      }
      word = (word ?? '') + s;
    } else if (c === '$' && text[i + 1] === '(') {
      word = (word ?? '') + readParens(text, i);
      i = skipParens(text, i);
    } else if (c === '`') {
      const end = text.indexOf('`', i + 1);
      const stop = end < 0 ? text.length : end;
      word = (word ?? '') + text.slice(i, stop + 1);
      i = stop;
    } else if (c === '#' && word === null) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '\n' || c === ';' || c === '(' || c === ')' || c === '{' || c === '}') {
      if ((c === '{' || c === '}') && word !== null) word += c;
      else endPipeline();
    } else if (c === '&' || c === '|') {
      if (c === '&' && text[i + 1] === '>') {
        endWord();
        const append = text[i + 2] === '>';
        pendingOp = append ? '&>>' : '&>';
        i += append ? 2 : 1;
      } else if (text[i + 1] === c) {
        endPipeline();
        i++;
      } else if (c === '|') endCommand();
      else endPipeline();
    } else if (c === '>' || c === '<') {
      const fd = word !== null && /^\d+$/.test(word) ? word : '';
      if (fd) word = null;
      else endWord();
      const op = /^(?:>>|>\||>&|<<<|<<-|<<|<&|<>)/.exec(text.slice(i))?.[0] ?? c;
      pendingOp = fd + op;
      i += op.length - 1;
    } else {
      word = (word ?? '') + c;
    }
  }
  endPipeline();
  return pipelines;
}

/** `$(...)` verbatim, nested parentheses and quotes included. */
function readParens(text: string, start: number): string {
  return text.slice(start, skipParens(text, start) + 1);
}

function skipParens(text: string, start: number): number {
  let depth = 0;
  let quote = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '\\') i++;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return text.length - 1;
}

/** Does `text` name `path`, as a whole path (not a prefix of a longer name)? */
export function mentions(text: string, path: string): boolean {
  for (let at = text.indexOf(path); at >= 0; at = text.indexOf(path, at + 1)) {
    const before = text[at - 1];
    const after = text[at + path.length];
    if ((before === undefined || !/[\w.-]/.test(before)) && (after === undefined || !/[\w.\-/]/.test(after))) return true;
  }
  return false;
}

const OUTPUT_OPS = new Set(['>', '>>', '>|', '1>', '1>>', '1>|', '&>', '&>>']);

function isUnder(path: string, dir: string): boolean {
  const d = dir.replace(/\/+$/, '');
  return d !== '' && (path === d || path.startsWith(`${d}/`));
}

export interface SecretWrite {
  /** The secret's path as mounted. */
  path: string;
  /** Where it is written, as the script spells it. */
  dest: string;
}

/**
 * Writes of a secret into a file that stays in the layer.
 * `secrets`: the paths the RUN mounts secrets at; `scratch`: the targets of its tmpfs/cache/bind mounts.
 */
export function secretWrites(script: string, secrets: readonly string[], scratch: readonly string[]): SecretWrite[] {
  const pipelines = parseScript(script);
  const removedAt = new Map<string, number>(); // path → index of the last pipeline that removes it
  const candidates: (SecretWrite & { at: number })[] = [];
  pipelines.forEach((pipeline, at) => {
    for (const cmd of pipeline) {
      const name = cmd.words[0]?.replace(/^.*\//, '');
      const args = cmd.words.slice(1).filter((w) => !w.startsWith('-'));
      if (name === 'rm') for (const a of args) removedAt.set(a, at);
      if (name === 'cp' || name === 'install') {
        const dir = /^(?:-t|--target-directory)(?:=(.*))?$/;
        const flagged = cmd.words.findIndex((w) => dir.test(w));
        const dest = flagged >= 0 ? (dir.exec(cmd.words[flagged]!)![1] ?? cmd.words[flagged + 1]) : args.at(-1);
        const sources = flagged >= 0 ? args.filter((a) => a !== dest) : args.slice(0, -1);
        for (const path of secrets) if (dest && sources.some((s) => mentions(s, path))) candidates.push({ path, dest, at });
      }
    }
    for (const path of secrets) {
      const reads = pipeline.some((c) => c.words.slice(1).some((w) => mentions(w, path)) || c.redirects.some((r) => r.op.endsWith('<') && mentions(r.target, path)));
      if (!reads) continue;
      for (const c of pipeline) {
        for (const r of c.redirects) if (OUTPUT_OPS.has(r.op)) candidates.push({ path, dest: r.target, at });
        if (c.words[0]?.replace(/^.*\//, '') === 'tee') for (const f of c.words.slice(1).filter((w) => !w.startsWith('-'))) candidates.push({ path, dest: f, at });
      }
    }
  });
  const seen = new Set<string>();
  return candidates
    .filter((c) => !isUnder(c.dest, '/dev') && !scratch.some((d) => isUnder(c.dest, d)) && !((removedAt.get(c.dest) ?? -1) > c.at))
    .filter((c) => !seen.has(`${c.path}\0${c.dest}`) && seen.add(`${c.path}\0${c.dest}`))
    .map(({ path, dest }) => ({ path, dest }));
}
