/**
 * The Dockerfile as `secbuild check` sees it: the Dockerfile model
 * (src/dockerfile/model.ts: instructions with their stage and lines, the stages
 * the build reaches, the secret mounts in them, COPY/ADD sources) plus the
 * `# secbuild-ignore RULE` comments. Stages, --target, ARG/ENV expansion and
 * mount parsing are the model's, not repeated here; within one run the
 * preflight and the rules share one parse.
 */
import { parseDockerfile } from '../dockerfile/model.js';
import type { DockerfileInput, DockerfileModel } from '../dockerfile/types.js';
import { isRuleId, RULE_IDS, type RuleId } from './rules.js';

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

/** The model, with a note for each `# secbuild-ignore` that names no known rule. */
export async function readDockerfile(input: DockerfileInput): Promise<DockerfileModel> {
  const model = await parseDockerfile(input);
  return { ...model, notes: [...model.notes, ...unknownIgnores(input.path, model.lines)] };
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
