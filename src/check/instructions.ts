/**
 * The rules that read instructions of the reached stages:
 * `secret-in-arg-or-env` (ARG/ENV names), `credential-file-copied` (COPY/ADD
 * sources) and `secret-written-to-layer` (RUN scripts with secret mounts).
 */
import type { Arg, Env } from 'dockerfile-ast';
import { statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { contextPath, copiedBy, credentialKind, fixOf, globRegExp, isGlob, secretAsVariable } from './credentials.js';
import { mountEnvBySyntax } from '../dockerfile/frontend.js';
import type { Draft } from './dockerfile.js';
import type { DockerfileModel, Step } from '../dockerfile/types.js';
import { ignoreMatcher, resolveInContext } from './context.js';
import { secretWrites } from './shell.js';
import { looksLikeSecretName } from '../guards/wordlist.js';

const inReachedStages = (model: DockerfileModel, keywords: readonly string[]) =>
  model.steps.filter((s) => s.stage >= 0 && model.reached.has(s.stage) && keywords.includes(s.keyword));

/** Whether check may suggest env= on a mount: only where the syntax line gives frontend 1.10 or later (the builder's own may be older). */
const envKey = (model: DockerfileModel) => mountEnvBySyntax(model.frontend) === true;

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
        fix: `Pass it as a secret instead: ${secretAsVariable(name, envKey(model))} with secbuild --secret id=${name},from=env:${name}.`,
      });
    }
  }
  return out;
}

const quoteList = (files: string[]) => {
  const shown = files.slice(0, 5).map((f) => `"${f}"`);
  return files.length > 5 ? `${shown.join(', ')} and ${files.length - 5} more` : shown.join(', ');
};

/** The build context as the COPY rule needs it; walked once, and only for a directory, glob or symlink copy. */
export interface ContextView {
  dir: string;
  /** Credential files the builder receives, context-relative. */
  files(): Promise<string[]>;
  /** Symlinks the builder receives, context-relative (a glob copy follows those it matches). */
  links(): Promise<string[]>;
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
          fix: fixOf(kind, envKey(model)),
        });
        copied.add(src);
        continue;
      }
      if (!context) continue;
      const excludes = step.copy?.excludes ?? [];
      const excluded = excludes.length ? await ignoreMatcher(excludes) : () => false;
      /** A directory (or glob) copy brings the credential files under it. */
      const take = (from: string, files: readonly string[]) => {
        for (const f of copiedBy(from, files)) if (!excluded(relativeToSource(contextPath(from), f))) bulk.push(f);
      };
      /** A symlink COPY follows, to a credential file the builder receives: the file's bytes land in the image. */
      const throughLink = (named: string, path: string, files: readonly string[]): boolean => {
        if (path === named || !files.includes(path)) return false;
        drafts.push({
          rule: 'credential-file-copied',
          line: step.start,
          at: step.start,
          message: `${step.keyword} copies "${named}", a symlink to the credential file "${path}", into the image, where anyone who can pull the image can read it.`,
          fix: fixOf(credentialKind(path)!, envKey(model)),
        });
        copied.add(path);
        return true;
      };
      if (!isGlob(src)) {
        const path = resolveInContext(context.dir, src);
        if (path === undefined) continue; // a symlink loop: BuildKit fails the COPY
        if (path !== src && throughLink(src, path, await context.files())) continue;
        if (path === '' || isDirectory(join(context.dir, path))) take(escapeGlob(path), await context.files());
        continue;
      }
      // A glob: its leading plain elements are followed, then every match is (a symlink inside a matched directory is not).
      const pattern = globBase(context.dir, src);
      if (pattern === undefined) continue;
      const files = await context.files();
      take(pattern, files);
      const re = globRegExp(pattern);
      const depth = pattern.split('/').length;
      for (const link of await context.links()) {
        if (!re || link.split('/').length !== depth || !re.test(link)) continue;
        const path = resolveInContext(context.dir, link);
        if (path === undefined || throughLink(link, path, files)) continue;
        if (path === '' || isDirectory(join(context.dir, path))) take(escapeGlob(path), files);
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

/** `src` (a glob) with its leading plain elements resolved through symlinks, as fsutil's ResolveWildcards does; undefined for a loop. */
function globBase(contextDir: string, src: string): string | undefined {
  const parts = src.split('/');
  const first = parts.findIndex((p) => isGlob(p));
  const base = resolveInContext(contextDir, parts.slice(0, first).join('/'));
  if (base === undefined) return undefined;
  return [...(base ? [escapeGlob(base)] : []), ...parts.slice(first)].join('/');
}

/** A path as a glob that matches only itself. */
function escapeGlob(path: string): string {
  return path.replace(/[*?[\\]/g, '\\$&');
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
