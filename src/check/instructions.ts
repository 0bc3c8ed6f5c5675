/**
 * The rules that read instructions of the reached stages:
 * `secret-in-arg-or-env` (ARG/ENV names), `credential-file-copied` (COPY/ADD
 * sources) and `secret-written-to-layer` (RUN scripts with secret mounts).
 */
import type { Arg, Env } from 'dockerfile-ast';
import { statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { contextPath, copiedBy, credentialKind, isGlob } from './credentials.js';
import type { Draft } from './dockerfile.js';
import type { DockerfileModel, Step } from '../dockerfile/types.js';
import { ignoreMatcher } from './context.js';
import { secretWrites } from './shell.js';
import { looksLikeSecretName } from '../guards/wordlist.js';

const inReachedStages = (model: DockerfileModel, keywords: readonly string[]) =>
  model.steps.filter((s) => s.stage >= 0 && model.reached.has(s.stage) && keywords.includes(s.keyword));

export function argEnvFindings(model: DockerfileModel): Draft[] {
  const out: Draft[] = [];
  for (const step of inReachedStages(model, ['ARG', 'ENV'])) {
    for (const p of (step.ins as Arg | Env).getProperties()) {
      const name = p.getName();
      if (!looksLikeSecretName(name)) continue;
      const where = step.keyword === 'ARG' ? 'is recorded in the image history and the build cache' : 'is stored in the image config, readable by anyone who can pull the image';
      out.push({
        rule: 'secret-in-arg-or-env',
        line: step.start,
        at: step.start,
        message: `${step.keyword} ${name} looks like a credential (Docker's SecretsUsedInArgOrEnv), and its value ${where}.`,
        fix: `Pass it as a secret instead: RUN --mount=type=secret,id=${name},env=${name} … with secbuild --secret id=${name},from=env:${name}.`,
      });
    }
  }
  return out;
}

const quoteList = (files: string[]) => {
  const shown = files.slice(0, 5).map((f) => `"${f}"`);
  return files.length > 5 ? `${shown.join(', ')} and ${files.length - 5} more` : shown.join(', ');
};

/** The build context as the COPY rule needs it; `files` is read once, and only for a directory or glob copy. */
export interface ContextView {
  dir: string;
  /** Credential files the builder receives, context-relative. */
  files(): Promise<string[]>;
  /** The ignore file to name in a fix. */
  ignoreName(): Promise<string>;
}

/** `credential-file-copied`; `context` is undefined when it cannot be read (only sources named explicitly are checked then). */
export async function copyFindings(model: DockerfileModel, context: ContextView | undefined): Promise<{ drafts: Draft[]; copied: Set<string> }> {
  const drafts: Draft[] = [];
  const copied = new Set<string>();
  for (const step of inReachedStages(model, ['COPY', 'ADD'])) {
    const sources = step.copy?.context ?? [];
    const bulk: string[] = [];
    for (const source of sources) {
      const src = contextPath(source);
      const kind = credentialKind(src);
      if (kind) {
        drafts.push({
          rule: 'credential-file-copied',
          line: step.start,
          at: step.start,
          message: `${step.keyword} copies the credential file "${src}" into the image, where anyone who can pull the image can read it.`,
          fix: kind.fix,
        });
        copied.add(src);
        continue;
      }
      if (!context || !(src === '' || isGlob(src) || isDirectory(join(context.dir, src)))) continue;
      const files = await context.files();
      const excludes = step.copy?.excludes ?? [];
      const excluded = excludes.length ? await ignoreMatcher(excludes) : () => false;
      for (const f of copiedBy(source, files)) {
        if (excluded(relativeToSource(src, f))) continue;
        bulk.push(f);
      }
    }
    const files = [...new Set(bulk)].sort();
    if (files.length === 0) continue;
    for (const f of files) copied.add(f);
    const what = files.length === 1 ? `the credential file ${quoteList(files)}` : `the credential files ${quoteList(files)}`;
    drafts.push({
      rule: 'credential-file-copied',
      line: step.start,
      at: step.start,
      message: `${step.keyword} ${sources.join(' ')} brings ${what} from the build context into the image, where anyone who can pull the image can read ${files.length === 1 ? 'it' : 'them'}.`,
      fix: `Exclude ${files.length === 1 ? 'it' : 'them'} in ${await context!.ignoreName()} (for example "**/${posix.basename(files[0]!)}") or copy only what the image needs, and mount credentials as secrets.`,
    });
  }
  return { drafts, copied };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** A file's path below the COPY source it came through, for --exclude patterns. */
function relativeToSource(src: string, file: string): string {
  if (src === '') return file;
  const depth = src.split('/').length;
  return file.split('/').slice(depth).join('/') || posix.basename(file);
}

export function runWriteFindings(model: DockerfileModel): Draft[] {
  const out: Draft[] = [];
  for (const step of inReachedStages(model, ['RUN'])) {
    const mounts = model.mounts.filter((m) => m.line >= step.start && m.line <= step.end && m.target);
    if (mounts.length === 0) continue;
    const scratch = step.mounts.filter((m) => /^(tmpfs|cache|bind)$/.test(m.type) && m.target).map((m) => m.target);
    for (const w of secretWrites(runScript(step), mounts.map((m) => m.target), scratch)) {
      const ids = [...new Set(mounts.filter((m) => m.target === w.path).map((m) => m.id))];
      out.push({
        rule: 'secret-written-to-layer',
        line: step.start,
        at: step.start,
        message: `RUN writes secret "${ids.join('", "')}" (${w.path}) to ${w.dest}, which stays in the image layer.`,
        fix: `Let the tool read ${w.path} where it is mounted (target= can mount it at the path the tool expects), or write to a tmpfs (--mount=type=tmpfs,target=DIR) or remove the file in the same RUN.`,
      });
    }
  }
  return out;
}

/** The script a RUN runs: the shell form as written; the exec form's `sh -c SCRIPT`, or its words quoted. */
function runScript(step: Step): string {
  const json = step.json;
  if (!json) return step.text;
  if (json.length >= 3 && /(^|\/)(ba|da|a|z)?sh$/.test(json[0]!) && json[1] === '-c') return json[2]!;
  return json.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
}
