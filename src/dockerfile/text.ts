/**
 * What an instruction says after its keyword and flags: the argument text,
 * the JSON (exec) form, and for COPY/ADD the sources it copies.
 *
 * Mirrors moby/buildkit frontend/dockerfile/
 * instructions/parse.go `parseCopy` / `parseAdd`: the last word is the
 * destination, the others are sources; `--from` reads another stage or image,
 * a heredoc source is inline, an ADD source may be a URL or a git remote.
 */
import type { Instruction, ModifiableInstruction } from 'dockerfile-ast';
import type { CopySources, Flag } from './types.js';

/** The instruction's text after its keyword and flags, continuation lines and heredoc bodies included. */
export function argumentText(lines: readonly string[], escape: string, ins: Instruction, end: number): string {
  const flags = 'getFlags' in ins ? (ins as ModifiableInstruction).getFlags() : [];
  const from = flags.at(-1)?.getRange().end ?? ins.getInstructionRange().end;
  const body = lines.slice(from.line, end);
  body[0] = (body[0] ?? '').slice(from.character);
  const text = body.join('\n');
  // Docker drops comment lines inside a continuation; the shell reader treats `\`+newline itself.
  return escape === '`' ? text.replace(/`[ \t]*\n/g, ' ') : text.replace(/\\[ \t]+\n/g, '\\\n');
}

/** JSON (exec) form arguments, or null for the shell form. */
export function jsonArguments(text: string): string[] | null {
  const t = text.trim();
  if (!t.startsWith('[')) return null;
  try {
    const v: unknown = JSON.parse(t);
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : null;
  } catch {
    return null;
  }
}

/** A COPY/ADD's sources; `json` is its exec form, else the shell-form words are read by `shellWords`. */
export function copySources(ins: Instruction, json: string[] | null, flags: readonly Flag[]): CopySources {
  const fromFlag = flags.find((f) => f.name === 'from');
  const from = fromFlag ? (fromFlag.value ?? '') : null;
  const excludes = flags.filter((f) => f.name === 'exclude').map((f) => f.value ?? '');
  const words = json ?? shellWords(ins);
  const sources = words.slice(0, -1);
  const inline = from !== null || words.some((w) => w.startsWith('<<'));
  const context = inline ? [] : sources.filter((w) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(w) && !w.startsWith('git@'));
  return { from, sources, context, excludes };
}

/**
 * Shell-form words split at whitespace as BuildKit's parser does (a quote does
 * not join words), a quoted word unquoted; a heredoc's body is not words.
 */
function shellWords(ins: Instruction): string[] {
  const args = ins.getArguments();
  const heredoc = args.find((a) => a.getValue().startsWith('<<'));
  const last = heredoc ? heredoc.getRange().start.line : Infinity;
  return args.filter((a) => a.getRange().start.line <= last).map((a) => a.getValue().replace(/^(["'])(.*)\1$/s, '$2'));
}
