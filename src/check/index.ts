/**
 * `secbuild check`: static findings about a Dockerfile and its build context
 * that would put a secret into an image, or leave a secret mount empty.
 * `checkDockerfile` runs every rule (src/check/rules.ts lists them);
 * `preflightLeaks` runs the error-level rules a build's preflight adds to the
 * secret-id check it already does. Nothing here resolves a secret: the secret-id
 * rules compare declared ids, and no finding carries a value.
 */
import { basename, isAbsolute, join, relative } from 'node:path';
import { secretIdFindings, sshIdFindings, type PreflightInput } from './secret-ids.js';
import { contextEntries, loadIgnore, type ContextEntries, type IgnoreRules } from './context.js';
import { readDockerfile, silenced, type Draft } from './dockerfile.js';
import type { DockerfileModel } from '../dockerfile/types.js';
import { argEnvFindings, copyFindings, runWriteFindings, type ContextView } from './instructions.js';
import { findingLine, RULE_IDS, RULES, type CheckFinding, type CheckResult } from './rules.js';

export { findingLine, RULES, type CheckFinding, type CheckResult } from './rules.js';

export interface CheckOptions extends PreflightInput {
  /** The build context directory; without it only sources named in COPY/ADD are checked. */
  context?: string;
  /** Declared secret ids (the build's `provided`/`optional` sets); without them the secret-id rules do not run. */
  secrets?: { provided: ReadonlySet<string>; optional: ReadonlySet<string>; inputs?: ReadonlySet<string>; ssh?: ReadonlySet<string> };
  /** Run only the error-level rules. */
  errorsOnly?: boolean;
  /** Show file paths relative to this directory when they are inside it (else absolute, as given). */
  cwd?: string;
}

export async function checkDockerfile(opts: CheckOptions): Promise<CheckResult> {
  const model = await readDockerfile(opts);
  const show = (p: string) => displayPath(p, opts.cwd);
  const drafts: Draft[] = [];

  if (opts.secrets) {
    const ids = [
      ...secretIdFindings(model.mounts, opts.path, opts.secrets.provided, opts.secrets.optional, opts.target, opts.secrets.inputs),
      ...sshIdFindings(model.sshMounts, opts.path, opts.secrets.ssh ?? new Set(), opts.target),
    ];
    for (const f of ids) {
      if (opts.errorsOnly && f.level !== 'error') continue;
      drafts.push({ rule: f.rule, line: f.line ?? null, at: f.line === undefined ? null : startOf(model, f.line), message: f.explanation, fix: f.fix });
    }
  }
  if (!opts.errorsOnly) drafts.push(...argEnvFindings(model), ...runWriteFindings(model));

  let ignore: Promise<IgnoreRules> | undefined;
  let entries: Promise<ContextEntries> | undefined;
  const dir = opts.context;
  const rules = () => (ignore ??= loadIgnore(dir!, opts.path));
  const walk = () => (entries ??= rules().then((r) => contextEntries(dir!, r)));
  const context: ContextView | undefined = dir
    ? {
        dir,
        files: () => walk().then((e) => e.files),
        links: () => walk().then((e) => e.links),
        ignoreName: async () => show((await rules()).file ?? join(dir, '.dockerignore')),
      }
    : undefined;
  const copies = await copyFindings(model, context);
  drafts.push(...copies.drafts);

  if (context && !opts.errorsOnly) {
    const ignoreName = await context.ignoreName();
    for (const f of await context.files()) {
      if (copies.copied.has(f)) continue; // already an error for the COPY that takes it
      drafts.push({
        rule: 'credential-file-in-context',
        line: null,
        at: null,
        file: join(context.dir, f),
        message: `The credential file "${f}" is in the build context and ${ignoreName} does not exclude it, so it is sent to the builder, where any COPY or bind mount can read it.`,
        fix: `Add it to ${ignoreName} (for example "**/${basename(f)}") or move it out of the build context.`,
      });
    }
  }

  const first = model.steps[0]?.start ?? 1;
  const findings = drafts
    .filter((d) => !silenced(model.lines, d.at ?? first, d.rule) && (d.line === null || d.line === d.at || !silenced(model.lines, d.line, d.rule)))
    .sort((a, b) => Number(a.file !== undefined) - Number(b.file !== undefined) || (a.file ?? '').localeCompare(b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || RULE_IDS.indexOf(a.rule) - RULE_IDS.indexOf(b.rule))
    .map((d): CheckFinding => ({ rule: d.rule, level: RULES[d.rule].level, file: show(d.file ?? opts.path), line: d.line, message: d.message, fix: d.fix }));
  return { findings, notes: model.notes };
}

/**
 * For `secbuild build`'s preflight: the warning-level findings the Dockerfile
 * alone shows (a credential-looking ARG/ENV, a mounted secret written to a
 * layer, a COPY warning), one line each. No context walk: they depend on the
 * Dockerfile text, target and build-args only, so the preflight caches them.
 */
export async function dockerfileWarnings(input: PreflightInput): Promise<string[]> {
  const { dockerfile, path, target, buildArgs } = input;
  const { findings } = await checkDockerfile({ dockerfile, path, target, buildArgs });
  return findings.filter((f) => f.level === 'warning').map(findingLine);
}

/**
 * For `secbuild build`'s preflight: the error-level findings besides the secret
 * ids (which the preflight checks itself), one line each (`FILE:LINE: what. Fix.`).
 * A Dockerfile without COPY or ADD has none, and the parser is not even loaded.
 */
export async function preflightLeaks(input: PreflightInput, context: string): Promise<string[]> {
  if (!/^\s*(?:COPY|ADD)\s/im.test(input.dockerfile)) return [];
  const { dockerfile, path, target, buildArgs } = input;
  const { findings } = await checkDockerfile({ dockerfile, path, target, buildArgs, context, errorsOnly: true });
  return findings.filter((f) => f.level === 'error').map(findingLine);
}

/** The first line of the instruction that holds `line`. */
function startOf(model: DockerfileModel, line: number): number {
  return model.steps.find((s) => s.start <= line && line <= s.end)?.start ?? line;
}

/** `path` relative to `cwd` when it is inside it, else as given. */
export function displayPath(path: string, cwd: string | undefined): string {
  if (!cwd) return path;
  const rel = relative(cwd, path);
  if (rel === '') return '.';
  return !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
