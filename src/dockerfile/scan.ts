/**
 * Preflight: which secret ids does a Dockerfile mount in the stages a build
 * reaches, and do they match the secrets secbuild hands to docker?
 *
 * Mirrors moby/buildkit frontend/dockerfile:
 * - parser/line_parsers.go `extractBuilderFlags`: how `--flag` words are quoted;
 * - instructions/bflag.go: `--mount` without `=` is rejected;
 * - instructions/commands_runmount.go `parseMount`: CSV fields, case-insensitive
 *   keys, aliases, values expanded with the stage's ARG/ENV;
 * - dockerfile2llb/convert_secrets.go `dispatchSecret`: id = source, else id,
 *   else basename(target); default target /run/secrets/<id>;
 * - dockerfile2llb/convert.go: target lookup by lower-cased name, reachability
 *   through FROM <stage>, COPY --from (name or index) and RUN --mount from= (name only,
 *   convert_runmount.go `detectRunMount`).
 * dockerfile-ast (imported inside `findSecretMounts`, so `secbuild --version` does not load it)
 * gives instructions, stages, ARG/ENV and heredocs; flags are re-read from the text because its
 * getFlags() splits quoted values at spaces. Not followed: ONBUILD triggers, --build-context stages.
 */
import type { Arg, Env, Instruction } from 'dockerfile-ast';
import { UsageError } from '../util/errors.js';
import type { PreflightInput, SecretMount } from '../check/secret-ids.js';

/** Variables in scope: null = declared by ARG without a value (unset). Absent = unknown (maybe from the base image). */
type Vars = Map<string, string | null>;
interface Stage { name: string; label: string; parent?: number; deps: { ref: string; byIndex: boolean }[]; mounts: SecretMount[]; notes: string[]; vars: Vars }

export async function findSecretMounts(input: PreflightInput): Promise<{ mounts: SecretMount[]; notes: string[] }> {
  // CommonJS module: named exports under Node, `default` once bundled by esbuild.
  const mod = (await import('dockerfile-ast')) as typeof import('dockerfile-ast') & { default?: typeof import('dockerfile-ast') };
  const DockerfileParser = mod.DockerfileParser ?? mod.default!.DockerfileParser;
  const df = DockerfileParser.parse(input.dockerfile);
  const esc = df.getEscapeCharacter();
  const lines = input.dockerfile.split(/\r\n|\r|\n/);
  const buildArgs = input.buildArgs ?? {};
  const at = (line: number) => `${input.path}:${line}`;

  const notes: string[] = [];
  const syntax = df.getDirectives().find((d) => d.getName().toLowerCase() === 'syntax');
  const syntaxArg = buildArgs['BUILDKIT_SYNTAX']?.trim().split(/\s+/)[0];
  const frontend = syntaxArg || syntax?.getValue().trim();
  if (frontend && !isDockerfileFrontend(frontend)) {
    const where = syntaxArg ? `${input.path} (build-arg BUILDKIT_SYNTAX)` : at(syntax!.getRange().start.line + 1);
    notes.push(`${where}: syntax "${frontend}" is not docker/dockerfile; the secret check follows the standard Dockerfile syntax and may not match what that frontend mounts`);
  }

  const meta: Vars = new Map();
  const stages: Stage[] = [];
  const earlier = new Map<string, number>(); // FROM sees only stages defined above it
  for (const ins of df.getInstructions()) {
    const keyword = ins.getKeyword();
    const st = stages.at(-1);
    if (keyword === 'FROM') {
      const [image = '', as, name] = ins.getArguments().map((a) => a.getValue());
      const stageName = as?.toLowerCase() === 'as' && name ? name.toLowerCase() : '';
      const base = expand(image, meta, esc);
      const parent = base === null ? undefined : earlier.get(base);
      const vars: Vars = parent === undefined ? new Map() : new Map(stages[parent]!.vars);
      if (stageName) earlier.set(stageName, stages.length);
      stages.push({ name: stageName, label: stageName || String(stages.length), parent, deps: [], mounts: [], notes: [], vars });
    } else if (keyword === 'ARG') {
      for (const p of (ins as Arg).getProperties()) declareArg(p.getName(), p.getUnescapedValue(), st ? st.vars : meta, st ? meta : undefined, buildArgs, esc);
    } else if (st && keyword === 'ENV') {
      for (const p of (ins as Env).getProperties()) setExpanded(st.vars, p.getName(), p.getUnescapedValue() ?? '', esc);
    } else if (st && keyword === 'COPY') {
      for (const f of leadingFlags(lines, ins, esc)) {
        if (f.name === 'from' && f.value !== null && !/\$./.test(f.value)) st.deps.push({ ref: f.value, byIndex: /^[+-]?\d+$/.test(f.value) });
      }
    } else if (st && keyword === 'RUN') {
      for (const f of leadingFlags(lines, ins, esc)) if (f.name === 'mount') readMount(f.value, f.line, st, at, esc);
    }
  }

  if (stages.length === 0) {
    if (input.target) throw new UsageError(`${input.path} has no FROM instruction, so it has no stage "${input.target}"; check -f and --target.`);
    return { mounts: [], notes: [...notes, `${input.path}: no FROM instruction; no secret mounts to check`] };
  }
  const byName = new Map<string, number>();
  stages.forEach((s, i) => s.name && byName.set(s.name, i));
  let root = stages.length - 1;
  if (input.target) {
    const found = byName.get(input.target.toLowerCase());
    if (found === undefined) {
      const names = [...byName.keys()];
      const known = names.length ? `its stages are: ${names.join(', ')}` : 'it has no named stages (add "AS name" to a FROM line)';
      throw new UsageError(`${input.path}: --target "${input.target}" names no stage; ${known}.`);
    }
    root = found;
  }

  const reached = new Set<number>();
  const todo = [root];
  while (todo.length) {
    const i = todo.pop()!;
    if (reached.has(i)) continue;
    reached.add(i);
    if (stages[i]!.parent !== undefined) todo.push(stages[i]!.parent!);
    for (const d of stages[i]!.deps) {
      const j = d.byIndex ? Number(d.ref) : byName.get(d.ref.toLowerCase());
      if (j !== undefined && j >= 0 && j < stages.length) todo.push(j);
    }
  }
  const order = [...reached].sort((a, b) => a - b).map((i) => stages[i]!);
  return { mounts: order.flatMap((s) => s.mounts), notes: [...notes, ...order.flatMap((s) => s.notes)] };
}

/** docker/dockerfile or docker/dockerfile-upstream, any tag or digest, with or without docker.io/. */
function isDockerfileFrontend(ref: string): boolean {
  const repo = ref.replace(/^docker\.io\//, '').replace(/@.*$/, '').replace(/:[^/]*$/, '');
  return repo === 'docker/dockerfile' || repo === 'docker/dockerfile-upstream';
}

/** dispatchArg / buildMetaArgs: a build-arg wins, then the default, then (in a stage) the global value. */
function declareArg(name: string, value: string | null, vars: Vars, global: Vars | undefined, buildArgs: Record<string, string>, esc: string): void {
  if (Object.hasOwn(buildArgs, name)) vars.set(name, buildArgs[name]!);
  else if (value !== null) setExpanded(vars, name, value, esc);
  else if (typeof global?.get(name) === 'string') vars.set(name, global.get(name)!);
  else if (!vars.has(name)) vars.set(name, null);
}

function setExpanded(vars: Vars, name: string, value: string, esc: string): void {
  const v = expand(value, vars, esc);
  if (v === null) vars.delete(name); // unknown from here on
  else vars.set(name, v);
}

/**
 * Shell-style word expansion (a subset of BuildKit's shell.Lex): quotes, escapes,
 * $VAR, ${VAR} and ${VAR:-w} ${VAR-w} ${VAR:+w} ${VAR+w} ${VAR:?w}. Returns null when a
 * variable is not known here: it may come from the base image or need another form.
 */
function expand(word: string, vars: Vars, esc: string): string | null {
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
      if (op === ':-') got = empty ? expand(alt, vars, esc) : v;
      else if (op === '-') got = v ?? expand(alt, vars, esc);
      else if (op === ':+') got = empty ? '' : expand(alt, vars, esc);
      else if (op === '+') got = v === null ? '' : expand(alt, vars, esc);
      if (got === null) return null;
      out += got;
    }
  }
  return out;
}

/** The leading `--name[=value]` words of an instruction, quoted and continued as BuildKit reads them. */
function leadingFlags(lines: string[], ins: Instruction, esc: string): { name: string; value: string | null; line: number }[] {
  const first = ins.getRange().start.line;
  const cont = new RegExp(`${esc.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')}[ \\t]*$`);
  let s = '';
  const lineAt: number[] = [];
  for (let n = first; n < lines.length; n++) {
    const raw = lines[n]!;
    if (n > first && /^\s*(#.*)?$/.test(raw)) continue; // comments and blank lines inside a continuation
    const m = cont.exec(raw);
    const body = m ? raw.slice(0, m.index) : raw;
    s += body;
    for (let k = 0; k < body.length; k++) lineAt.push(n + 1);
    if (!m) break;
  }
  const out: { name: string; value: string | null; line: number }[] = [];
  let pos = /^\s*\S+/.exec(s)?.[0].length ?? s.length; // skip the keyword
  for (;;) {
    while (pos < s.length && /\s/.test(s[pos]!)) pos++;
    if (!s.startsWith('--', pos)) return out;
    const start = pos;
    let word = '';
    let quote = '';
    for (; pos < s.length && (quote || !/\s/.test(s[pos]!)); pos++) {
      const c = s[pos]!;
      if (!quote && (c === '"' || c === "'")) quote = c;
      else if (quote && c === quote) quote = '';
      else if (c === '\\') word += s[++pos] ?? '';
      else word += c;
    }
    if (word === '--') return out;
    const eq = word.indexOf('=');
    out.push({ name: eq < 0 ? word.slice(2) : word.slice(2, eq), value: eq < 0 ? null : word.slice(eq + 1), line: lineAt[start]! });
  }
}

/** strconv.ParseBool's true spellings. */
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

function readMount(value: string | null, line: number, st: Stage, at: (line: number) => string, esc: string): void {
  const fields = value === null ? null : splitCsv(value);
  if (!fields) {
    const what = value === null ? '"--mount" needs "=" (--mount=type=secret,...)' : '--mount value is not valid CSV';
    st.notes.push(`${at(line)}: ${what}; BuildKit rejects this RUN, so its mounts were not checked`);
    return;
  }
  const aliases: Record<string, string> = { src: 'source', dst: 'target', destination: 'target' };
  const opts = new Map<string, string | true>();
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    opts.set(aliases[key] ?? key, eq < 0 ? true : field.slice(eq + 1));
  }
  const raw = (key: string) => (typeof opts.get(key) === 'string' ? (opts.get(key) as string) : '');
  const from = raw('from');
  if (from && !/\$./.test(from)) st.deps.push({ ref: from, byIndex: false });
  const val = (key: string) => expand(raw(key), st.vars, esc);

  const type = val('type');
  if (type === null) {
    st.notes.push(`${at(line)}: mount type "${raw('type')}" uses a variable secbuild cannot expand; not checked`);
    return;
  }
  if (type.toLowerCase() !== 'secret') return;
  const [source, id, target] = [val('source'), val('id'), val('target')];
  // dispatchSecret takes source, else id, else basename(target): stop at the first one that cannot be expanded
  const unknown = source === null ? 'source' : source ? '' : id === null ? 'id' : id ? '' : target === null ? 'target' : '';
  if (unknown) {
    st.notes.push(`${at(line)}: secret mount id "${raw(unknown)}" uses a variable secbuild cannot expand; not checked`);
    return;
  }
  if (source && id) {
    st.notes.push(`${at(line)}: secret mount sets both source= and id=; BuildKit rejects it, so it was not checked`);
    return;
  }
  const secretId = source || id || (target ? goBase(target) : '');
  if (!secretId) {
    st.notes.push(`${at(line)}: secret mount has no id, source or target; BuildKit rejects it ("one of source, target required"). Add id=NAME.`);
    return;
  }
  const req = opts.get('required');
  const required = req === true || (req !== undefined && GO_TRUE.has(expand(req, st.vars, esc) ?? ''));
  const dest = target === null ? raw('target') : target || (opts.has('env') ? '' : `/run/secrets/${goBase(secretId)}`);
  st.mounts.push({ id: secretId, line, stage: st.label, required, target: dest });
}

/** Go encoding/csv, one record, default options: a quote may only open a field; "" is a quote inside one. */
function splitCsv(s: string): string[] | null {
  const field = /(?:"((?:[^"]|"")*)"|([^,"]*))(,|$)/y;
  const out: string[] = [];
  for (let m; s && (m = field.exec(s)); ) {
    out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!);
    if (!m[3]) return field.lastIndex === s.length ? out : null;
  }
  return null;
}

/** Go path.Base. */
function goBase(p: string): string {
  const trimmed = p.replace(/\/+$/, '');
  return trimmed === '' ? (p ? '/' : '.') : trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
