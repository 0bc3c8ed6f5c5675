/**
 * The Dockerfile as `secbuild check` sees it: instructions with their stage
 * and lines, the stages the build reaches, the secret mounts in them, and the
 * `# secbuild-ignore RULE` comments.
 *
 * Stages, --target, ARG/ENV expansion and mount parsing are the preflight
 * scanner's (src/preflight/scan.ts), not repeated here. Which stages a build
 * reaches is asked of the scanner too: each stage gets one synthetic secret
 * mount right after its FROM, and the mounts the scanner returns name the
 * stages it reached (through FROM <stage>, COPY --from and RUN --mount from=).
 * dockerfile-ast is imported inside `readDockerfile`, so loading this module
 * costs nothing until a check runs.
 */
import type { Flag, Instruction, ModifiableInstruction } from 'dockerfile-ast';
import type { PreflightInput, SecretMount } from './secret-ids.js';
import { findSecretMounts } from '../dockerfile/scan.js';
import { isRuleId, RULE_IDS, type RuleId } from './rules.js';

export interface Step {
  keyword: string;
  ins: Instruction;
  /** 1-based first and last line (heredoc bodies and continuation lines included). */
  start: number;
  end: number;
  /** Index of the stage (0 = first FROM); -1 before the first FROM. */
  stage: number;
}

export interface DockerfileModel {
  path: string;
  lines: string[];
  escape: string;
  steps: Step[];
  /** Stage indexes the build reaches for the target (the last stage without one). */
  reached: ReadonlySet<number>;
  /** Secret mounts in the reached stages, from the scanner. */
  mounts: SecretMount[];
  notes: string[];
}

/** A finding before its level and file are filled in; `at` is the line whose comment silences it. */
export interface Draft {
  rule: RuleId;
  line: number | null;
  at: number | null;
  message: string;
  fix: string;
  /** Set for findings about another file (a credential file in the context). */
  file?: string;
}

const PROBE = 'secbuild-check-stage-';

export async function readDockerfile(input: PreflightInput): Promise<DockerfileModel> {
  // CommonJS module: named exports under Node, `default` once bundled by esbuild.
  const mod = (await import('dockerfile-ast')) as typeof import('dockerfile-ast') & { default?: typeof import('dockerfile-ast') };
  const DockerfileParser = mod.DockerfileParser ?? mod.default!.DockerfileParser;
  const df = DockerfileParser.parse(input.dockerfile);
  let stage = -1;
  const steps: Step[] = df.getInstructions().map((ins) => {
    const keyword = ins.getKeyword();
    if (keyword === 'FROM') stage++;
    const r = ins.getRange();
    return { keyword, ins, start: r.start.line + 1, end: r.end.line + 1, stage };
  });
  const lines = input.dockerfile.split(/\r\n|\r|\n/);
  const { mounts, notes } = await findSecretMounts(input);
  const reached = await reachedStages(input, lines, steps.filter((s) => s.keyword === 'FROM'));
  return { path: input.path, lines, escape: df.getEscapeCharacter(), steps, reached, mounts, notes: [...notes, ...unknownIgnores(input.path, lines)] };
}

async function reachedStages(input: PreflightInput, lines: string[], froms: Step[]): Promise<Set<number>> {
  if (froms.length === 0) return new Set();
  const after = new Map(froms.map((f) => [f.end, f.stage]));
  const probed: string[] = [];
  lines.forEach((line, n) => {
    probed.push(line);
    const stage = after.get(n + 1);
    if (stage !== undefined) probed.push(`RUN --mount=type=secret,id=${PROBE}${stage} true`);
  });
  const { mounts } = await findSecretMounts({ ...input, dockerfile: probed.join('\n') });
  return new Set(mounts.filter((m) => m.id.startsWith(PROBE)).map((m) => Number(m.id.slice(PROBE.length))));
}

const IGNORE = /^\s*#\s*secbuild-ignore\b(.*)$/;

const ruleList = (rest: string) => rest.split(/[\s,]+/).filter(Boolean);

/** Is `rule` silenced by a `# secbuild-ignore` line in the comment block directly above `line` (1-based)? */
export function silenced(lines: readonly string[], line: number, rule: RuleId): boolean {
  for (let n = line - 2; n >= 0 && /^\s*#/.test(lines[n]!); n--) {
    const m = IGNORE.exec(lines[n]!);
    if (m && ruleList(m[1]!).includes(rule)) return true;
  }
  return false;
}

function unknownIgnores(path: string, lines: readonly string[]): string[] {
  const notes: string[] = [];
  lines.forEach((text, n) => {
    const m = IGNORE.exec(text);
    if (!m) return;
    const names = ruleList(m[1]!);
    const bad = names.filter((r) => !isRuleId(r));
    if (names.length === 0 || bad.length > 0) {
      const what = names.length === 0 ? 'names no rule' : `names unknown rule${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')}`;
      notes.push(`${path}:${n + 1}: secbuild-ignore ${what}; it silences only the rules it names: ${RULE_IDS.join(', ')}`);
    }
  });
  return notes;
}

/** The instruction's text after its keyword and flags, continuation lines and heredoc bodies included. */
export function argumentText(model: DockerfileModel, step: Step): string {
  const from = flagsOf(step).at(-1)?.getRange().end ?? step.ins.getInstructionRange().end;
  const body = model.lines.slice(from.line, step.end);
  body[0] = body[0]!.slice(from.character);
  const text = body.join('\n');
  // Docker drops comment lines inside a continuation; the shell reader treats `\`+newline itself.
  return model.escape === '`' ? text.replace(/`[ \t]*\n/g, ' ') : text.replace(/\\[ \t]+\n/g, '\\\n');
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

/** `--name=value` words of COPY, ADD, RUN and the like (none for other instructions). */
export function flagsOf(step: Step): Flag[] {
  return 'getFlags' in step.ins ? (step.ins as ModifiableInstruction).getFlags() : [];
}

/** The flags of a COPY/ADD/RUN as name → values (dockerfile-ast splits them; values are not expanded). */
export function flagValues(step: Step): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of flagsOf(step)) {
    const name = f.getName().toLowerCase();
    out.set(name, [...(out.get(name) ?? []), f.getValue() ?? '']);
  }
  return out;
}
