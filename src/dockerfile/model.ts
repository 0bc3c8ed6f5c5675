/**
 * The Dockerfile model: the text parsed once into instructions, stages, the
 * stages a build reaches for its --target, the ARG/ENV in scope at each
 * instruction, secret and ssh mounts in the reached stages, COPY/ADD sources
 * and notes on what could not be decided (types.ts has its shape). The build
 * preflight (src/pipeline/preflight.ts) and `secbuild check` (src/check/) read
 * the same model; neither scans the text again.
 *
 * Mirrors moby/buildkit frontend/dockerfile/dockerfile2llb/convert.go: global
 * ARGs before the first FROM expand FROM (`buildMetaArgs`); a stage inherits
 * its parent's ARG/ENV; --target is looked up by lower-cased name; a build
 * reaches the target and, transitively, FROM <stage>, COPY --from (name or
 * index) and RUN --mount from= (name only, convert_runmount.go `detectRunMount`).
 * ARG/ENV expansion is expand.ts, flag words flags.ts, --mount values mounts.ts.
 *
 * This is the one module that imports dockerfile-ast, inside `parseDockerfile`:
 * `secbuild --version` and a build whose preflight scan is cached never load it
 * (scripts/build.mjs bundles this file alone as dist/dockerfile-scan.cjs). A
 * model is read-only and kept for the last few inputs, so a build's preflight
 * and check's rules in the same run share one parse. Not followed: ONBUILD
 * triggers, --build-context stages.
 */
import type { Arg, Dockerfile, Env, Instruction } from 'dockerfile-ast';
import { UsageError } from '../util/errors.js';
import { declareArg, expandWord, setExpanded, type Scope } from './expand.js';
import { frontendOf, isDockerfileFrontend } from './frontend.js';
import { leadingFlags } from './flags.js';
import { readMount } from './mounts.js';
import { argumentText, copySources, jsonArguments } from './text.js';
import type { DockerfileInput, DockerfileModel, EnvMount, Frontend, Stage, Step } from './types.js';

export type * from './types.js';

let parses = 0;

/** How many times this process has run the Dockerfile parser (for the "parsed once" tests). */
export function parserRuns(): number {
  return parses;
}

const KEEP = 8;
const models = new Map<string, Promise<DockerfileModel>>();

/** The model of `input`; the same input again (same text, path, target and build-args) gets the same model without a parse. */
export function parseDockerfile(input: DockerfileInput): Promise<DockerfileModel> {
  const key = JSON.stringify([input.path, input.target ?? null, Object.entries(input.buildArgs ?? {}).sort(), input.dockerfile]);
  let model = models.get(key);
  if (model) models.delete(key); // re-inserted below: most recently used last
  else {
    model = build(input);
    model.catch(() => models.delete(key)); // an error (an unknown --target) is not kept
  }
  models.set(key, model);
  if (models.size > KEEP) models.delete(models.keys().next().value!);
  return model;
}

async function build(input: DockerfileInput): Promise<DockerfileModel> {
  // CommonJS module: named exports under Node, `default` once bundled by esbuild.
  const mod = (await import('dockerfile-ast')) as typeof import('dockerfile-ast') & { default?: typeof import('dockerfile-ast') };
  const DockerfileParser = mod.DockerfileParser ?? mod.default!.DockerfileParser;
  parses++;
  const df = DockerfileParser.parse(input.dockerfile);
  const lines = input.dockerfile.split(/\r\n|\r|\n/);
  const escape = df.getEscapeCharacter();
  const { steps, stages, envMounts } = walk(df.getInstructions(), lines, escape, input);
  const frontend = syntaxFrontend(df, input);
  const notes = syntaxNotes(frontend);
  const base = { path: input.path, lines, escape, steps, stages, frontend, envMounts };

  if (stages.length === 0) {
    if (input.target) throw new UsageError(`${input.path} has no FROM instruction, so it has no stage "${input.target}"; check -f and --target.`);
    return { ...base, root: -1, reached: new Set(), mounts: [], sshMounts: [], notes: [...notes, `${input.path}: no FROM instruction; no secret mounts to check`] };
  }
  const root = input.target ? targetStage(stages, input) : stages.length - 1;
  const reached = new Set<number>();
  for (const todo = [root]; todo.length; ) {
    const i = todo.pop()!;
    if (reached.has(i)) continue;
    reached.add(i);
    const st = stages[i]!;
    todo.push(...(st.parent === undefined ? [] : [st.parent]), ...st.deps);
  }
  const order = [...reached].sort((a, b) => a - b).map((i) => stages[i]!);
  return {
    ...base,
    root,
    reached,
    mounts: order.flatMap((s) => s.mounts),
    sshMounts: order.flatMap((s) => s.sshMounts),
    notes: [...notes, ...order.flatMap((s) => s.notes)],
  };
}

function targetStage(stages: readonly Stage[], input: DockerfileInput): number {
  let found = -1; // the last of that name (BuildKit rejects a duplicate name anyway)
  stages.forEach((s, i) => s.name === input.target!.toLowerCase() && (found = i));
  if (found >= 0) return found;
  const names = [...new Set(stages.map((s) => s.name).filter(Boolean))];
  const known = names.length ? `its stages are: ${names.join(', ')}` : 'it has no named stages (add "AS name" to a FROM line)';
  throw new UsageError(`${input.path}: --target "${input.target}" names no stage; ${known}.`);
}

interface Draft extends Stage {
  vars: Scope;
  refs: { ref: string; byIndex: boolean }[];
}

/** One pass over the instructions: steps, stages, ARG/ENV scopes, mounts and stage references. */
function walk(instructions: Instruction[], lines: string[], esc: string, input: DockerfileInput): { steps: Step[]; stages: Stage[]; envMounts: EnvMount[] } {
  const buildArgs = input.buildArgs ?? {};
  const envMounts: EnvMount[] = [];
  let meta: Scope = new Map();
  const stages: Draft[] = [];
  const earlier = new Map<string, number>(); // FROM sees only stages defined above it
  const steps = instructions.map((ins): Step => {
    const keyword = ins.getKeyword();
    const r = ins.getRange();
    const [start, end] = [r.start.line + 1, r.end.line + 1];
    const flags = leadingFlags(lines, r.start.line, esc);
    const text = argumentText(lines, esc, ins, end);
    const json = jsonArguments(text);
    let st = stages.at(-1);
    if (keyword === 'FROM') {
      const [image = '', as, name] = ins.getArguments().map((a) => a.getValue());
      const stageName = as?.toLowerCase() === 'as' && name ? name.toLowerCase() : '';
      const imageRef = expandWord(image, meta, esc);
      const parent = imageRef === null ? undefined : earlier.get(imageRef);
      if (stageName) earlier.set(stageName, stages.length);
      const vars: Scope = parent === undefined ? new Map() : new Map(stages[parent]!.vars);
      const label = stageName || String(stages.length);
      st = { index: stages.length, name: stageName, label, line: start, parent, deps: [], vars, mounts: [], sshMounts: [], notes: [], refs: [] };
      stages.push(st);
    } else if (keyword === 'ARG') {
      const scope: Scope = new Map(st ? st.vars : meta); // copied: earlier steps keep the scope they saw
      for (const p of (ins as Arg).getProperties()) declareArg(p.getName(), p.getUnescapedValue(), scope, st ? meta : undefined, buildArgs, esc);
      if (st) st.vars = scope;
      else meta = scope;
    } else if (st && keyword === 'ENV') {
      st.vars = new Map(st.vars);
      for (const p of (ins as Env).getProperties()) setExpanded(st.vars, p.getName(), p.getUnescapedValue() ?? '', esc);
    }
    const step: Step = { keyword, ins, start, end, stage: st ? st.index : -1, flags, text, json, vars: st ? st.vars : meta, mounts: [] };
    if (keyword === 'COPY' || keyword === 'ADD') {
      step.copy = copySources(ins, json, flags);
      const from = step.copy.from;
      if (st && keyword === 'COPY' && from && !/\$./.test(from)) st.refs.push({ ref: from, byIndex: /^[+-]?\d+$/.test(from) });
    } else if (st && keyword === 'RUN') {
      for (const f of flags) {
        if (f.name !== 'mount') continue;
        const m = readMount(f.value, f.line, st.label, st.vars, esc, `${input.path}:${f.line}`);
        if (m.mount) step.mounts.push(m.mount);
        if (m.from) st.refs.push({ ref: m.from, byIndex: false });
        if (m.secret) st.mounts.push({ ...m.secret, run: start });
        if (m.ssh) st.sshMounts.push(m.ssh);
        if (m.env) envMounts.push(m.env);
        if (m.note) st.notes.push(m.note);
      }
    }
    return step;
  });

  const byName = new Map<string, number>();
  stages.forEach((s, i) => s.name && byName.set(s.name, i));
  const out = stages.map(({ refs, ...stage }): Stage => {
    const deps = refs.map((d) => (d.byIndex ? Number(d.ref) : byName.get(d.ref.toLowerCase())));
    return { ...stage, deps: [...new Set(deps.filter((j): j is number => j !== undefined && j >= 0 && j < stages.length))] };
  });
  return { steps, stages: out, envMounts };
}

/** The frontend the BUILDKIT_SYNTAX build-arg or the `# syntax=` directive names (the build-arg wins, as in BuildKit). */
function syntaxFrontend(df: Dockerfile, input: DockerfileInput): Frontend {
  const syntax = df.getDirectives().find((d) => d.getName().toLowerCase() === 'syntax');
  const syntaxArg = input.buildArgs?.['BUILDKIT_SYNTAX']?.trim().split(/\s+/)[0];
  if (syntaxArg) return frontendOf(syntaxArg, `${input.path} (build-arg BUILDKIT_SYNTAX)`);
  const ref = syntax?.getValue().trim();
  return frontendOf(ref || undefined, ref ? `${input.path}:${syntax!.getRange().start.line + 1}` : undefined);
}

/** A note when the frontend is not docker/dockerfile: its mounts may differ from what the model reads. */
function syntaxNotes(frontend: Frontend): string[] {
  if (!frontend.ref || isDockerfileFrontend(frontend.ref)) return [];
  return [`${frontend.where}: syntax "${frontend.ref}" is not docker/dockerfile; the secret check follows the standard Dockerfile syntax and may not match what that frontend mounts`];
}
