/**
 * Turns specs into Secrets: every reference resolved once, in parallel; every
 * failure collected into one ResolveError; credential templates rendered.
 */
import { describeRef, findProvider, refEnvVars, type Ref } from '../../providers/index.js';
import type { ChildEnv } from '../run/env.js';
import { MissingSecret, ProviderError, type ResolveContext } from '../../providers/types.js';
import { ResolveError, UsageError, type SecretFailure } from '../util/errors.js';
import { limited } from '../util/limited.js';
import { debugError, info } from '../util/log.js';
import { MAX_PARALLEL_RESOLVES, MAX_SECRET_BYTES, MAX_TEMPLATE_BYTES, readAtMost, sizeText } from './limits.js';
import { Secret } from './secret.js';
import { hideCredentials, shown, showTyped, type Shown } from '../util/shown.js';
import type { FieldValue, SecretSpec } from './spec.js';
import { FieldError, renderNetrc, renderNpmrc, renderTemplate, specFields, TemplateError, templateNames } from './render.js';

/** A .netrc, .npmrc or template field whose input secret did not resolve. */
class InputFailed extends FieldError {
  constructor(readonly input: string) {
    super(`its input secret "${input}" did not resolve`);
  }
}

export interface SkippedSecret {
  id: string;
  source: Shown;
  reason: string;
}

export interface Resolution {
  /** Secrets handed to docker, in spec order. */
  secrets: Secret[];
  /** Optional secrets that resolved to nothing: not handed to docker. */
  skipped: SkippedSecret[];
  /** Every value resolved, template inputs included (for masking and leak checks later). */
  values: Secret[];
  /** What failing providers printed before they failed (never shown; masked in their messages). */
  failedOutputs: Buffer[];
  /** Filled instead of throwing when resolveSpecs is called with keepGoing. */
  failures: SecretFailure[];
}

/** Merges config specs with CLI specs; a CLI spec replaces a config spec of the same id. */
export function mergeSpecs(config: readonly SecretSpec[], cli: readonly SecretSpec[]): SecretSpec[] {
  const byId = new Map<string, SecretSpec>();
  for (const s of config) byId.set(s.id, s);
  for (const s of cli) {
    if (byId.has(s.id) && !config.includes(byId.get(s.id)!)) {
      throw new UsageError(`secret id "${s.id}" is given twice on the command line (${byId.get(s.id)!.origin} and ${s.origin}); give each id once.`);
    }
    byId.set(s.id, s);
  }
  return [...byId.values()];
}

/**
 * Every reference a spec reads: its `from=`, its .netrc/.npmrc fields'
 * references, and the inputs of any of them (`identity=`, `role-id=`…: for the environment
 * variables they read, and for `secbuild secrets`' store lines).
 */
export function specRefs(s: SecretSpec): Ref[] {
  const refs = [...(s.kind === 'ref' ? [s.ref] : []), ...specFields(s).flatMap((f) => (f.kind === 'ref' ? [f.ref] : []))];
  return refs.flatMap((r) => [r, ...Object.values(r.inputs ?? {})]);
}

/** Environment variables any spec reads: removed from the environment of every child. */
export function sensitiveEnvVars(specs: readonly SecretSpec[]): Set<string> {
  const vars = new Set<string>();
  for (const s of specs) for (const r of specRefs(s)) refEnvVars(r).forEach((v) => vars.add(v));
  return vars;
}

/** A template not read with the config (secbuild.yml reads its own): bounded like every foreign file. */
async function readTemplate(origin: string, path: string): Promise<string> {
  let read;
  try {
    read = await readAtMost(path, MAX_TEMPLATE_BYTES);
  } catch (err) {
    throw new UsageError(`${origin}: cannot read template ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path.`);
  }
  if (read.over) throw new UsageError(`${origin}: template ${path} is larger than ${sizeText(MAX_TEMPLATE_BYTES)}, the limit for a template; check the path.`);
  return read.bytes.toString('utf8');
}

type Outcome = { ok: true; value: Buffer } | { ok: false; missing: boolean; reason: string; output?: Buffer };

function refKey(ref: Ref): string {
  const inputs = Object.entries(ref.inputs ?? {}).map(([k, r]) => `\0${k}\0${refKey(r)}`);
  return `${ref.scheme}\0${ref.key}\0${ref.baseDir}${inputs.join('')}`;
}

/** `text` ended as a sentence: a full stop unless it ends in one, or in `?` or `!` (a command's stderr may). */
const sentence = (text: string): string => (/[.?!]$/.test(text) ? text : `${text}.`);

/**
 * What a secret that is not there needs, by where it was looked for: a
 * variable is set, a file created; the bare `id=ID` form (label `id=ID`,
 * src/secrets/spec.ts) tried the variable ID before the file ID.
 */
function missingFix(s: { id: string; ref: Ref; label?: string }, reason: string): { source?: string; reason: string } {
  const orOptional = 'or mark the secret optional.';
  if (s.ref.scheme === 'file' && s.label === `id=${s.id}`) {
    return { source: `env:${s.id}, else file:${s.ref.key}`, reason: `environment variable ${s.id} is not set and ${reason} Set the variable or create the file, ${orOptional}` };
  }
  if (s.ref.scheme === 'env') return { reason: `${reason} Set it, ${orOptional}` };
  if (s.ref.scheme === 'file') return { reason: `${reason} Create it or correct the path, ${orOptional}` };
  return { reason: `${reason.replace(/\.$/, '')}; ${orOptional}` };
}

function reasonOf(err: unknown): { missing: boolean; reason: string; output?: Buffer } {
  // A provider's message names the key it read, which may be a credential typed as a name: such words are hidden.
  if (err instanceof MissingSecret) return { missing: true, reason: sentence(hideCredentials(err.message)) };
  if (err instanceof ProviderError) return { missing: false, reason: sentence(hideCredentials(err.message)), output: err.output };
  return { missing: false, reason: `the provider failed unexpectedly (${(err as Error)?.name ?? 'error'}); rerun with SECBUILD_DEBUG=1 for details.` };
}

const SLOW_MS = 1000;

/**
 * What a slow provider is waiting for, printed before its value is known to
 * the output filter: a cmd: shows its program's name only (the rest of the
 * line may hold the value), anything else its reference.
 */
function waitingFor(ref: Ref): Shown {
  return ref.scheme === 'cmd' ? shown`cmd: ${showTyped(ref.key.trim().split(/\s+/, 1)[0]!)} …` : describeRef(ref);
}

/** The ids a reference resolves, for the "resolving secret …" line. */
function idsOf(specs: readonly SecretSpec[], key: string): string {
  const ids = specs.filter((s) => s.kind === 'ref' && refKey(s.ref) === key).map((s) => s.id);
  return ids.length > 0 ? ids.join(', ') : 'field';
}

export async function resolveSpecs(
  specs: readonly SecretSpec[],
  base: { env: NodeJS.ProcessEnv; childEnv: ChildEnv },
  opts: { keepGoing?: boolean } = {},
): Promise<Resolution> {
  const byId = new Map(specs.map((s) => [s.id, s]));
  const failures: SecretFailure[] = [];

  // Templates are read first: their placeholders decide which secrets are inputs.
  const templateText = new Map<string, string>();
  for (const s of specs) {
    if (s.kind !== 'template') continue;
    const text = s.text ?? (await readTemplate(s.origin, s.path));
    let names: Map<string, number>;
    try {
      names = templateNames(text);
    } catch (err) {
      if (err instanceof TemplateError) throw new UsageError(`${s.path}:${err.line}: ${err.reason}.`);
      throw err;
    }
    for (const [name, line] of names) {
      const target = byId.get(name);
      if (!target || target.kind !== 'ref') {
        throw new UsageError(`${s.path}:${line}: placeholder \${${name}} names no secret declared with from:; declare it under secrets: in secbuild.yml or with --secret id=${name},from=REF.`);
      }
    }
    templateText.set(s.id, text);
  }

  // Every reference, resolved once and in parallel (at most MAX_PARALLEL_RESOLVES at a time).
  const refs = new Map<string, Ref>();
  const want = (ref: Ref) => refs.set(refKey(ref), ref);
  const fieldRef = (f: FieldValue): void => {
    if (f.kind === 'ref') want(f.ref);
    if (f.kind === 'secret') {
      const target = byId.get(f.name);
      if (!target || target.kind !== 'ref') {
        // Not named: a bare word that names no secret is most likely the credential itself.
        throw new UsageError(`${f.at} names no secret declared with from: (the value is not shown, as it may be the credential itself); give a reference such as env:TOKEN, or the id of a secret declared with --secret id=NAME,from=REF or under secrets: in secbuild.yml.`);
      }
    }
  };
  for (const s of specs) {
    if (s.kind === 'ref') want(s.ref);
    specFields(s).forEach(fieldRef);
  }
  const outcomes = new Map<string, Outcome>();
  // An input (age:'s identity=, vault:'s role-id=…) is resolved like any reference, first, once per run; its value is masked like every value.
  const inputValues = new Map<string, { name: string; value: Promise<Buffer> }>();
  // A slot is held only while one provider runs (never while waiting for an input), so no task waits on itself.
  const slot = limited(MAX_PARALLEL_RESOLVES);
  const inputOf = (name: string, r: Ref): Promise<Buffer> => {
    const k = refKey(r);
    if (!inputValues.has(k)) inputValues.set(k, { name, value: slot(() => findProvider(r.scheme)!.resolve(r.key, { env: base.env, childEnv: base.childEnv, cwd: r.baseDir })) });
    return inputValues.get(k)!.value;
  };
  await Promise.all(
    [...refs].map(async ([key, ref]) => {
      const provider = findProvider(ref.scheme)!;
      const inputs: Record<string, Buffer> = {};
      for (const [name, r] of Object.entries(ref.inputs ?? {})) {
        try {
          inputs[name] = await inputOf(name, r);
        } catch (err) {
          debugError(err);
          const why = reasonOf(err);
          outcomes.set(key, { ok: false, missing: false, reason: `its ${name} ${describeRef(r)} failed: ${why.reason}`, ...(why.output ? { output: why.output } : {}) });
          return;
        }
      }
      const ctx: ResolveContext = { env: base.env, childEnv: base.childEnv, cwd: ref.baseDir, ...(ref.inputs ? { inputs } : {}) };
      // A provider slower than a second (a cmd: prompting, a keychain unlocking) is named once, so a wait is never silent.
      const slow = setTimeout(() => info(`resolving secret ${idsOf(specs, key)} (${waitingFor(ref)})…`), SLOW_MS);
      try {
        outcomes.set(key, { ok: true, value: await slot(() => provider.resolve(ref.key, ctx)) });
      } catch (err) {
        debugError(err);
        outcomes.set(key, { ok: false, ...reasonOf(err) });
      } finally {
        clearTimeout(slow);
      }
    }),
  );

  const secrets: Secret[] = [];
  const skipped: SkippedSecret[] = [];
  const values: Secret[] = [];
  for (const { name, value } of inputValues.values()) {
    const v = await value.catch(() => undefined);
    if (v?.length) values.push(new Secret(`(${name})`, `${name}=`, v));
  }
  const refValue = new Map<string, Buffer>();

  // Plain references first: templates read their values.
  for (const s of specs) {
    if (s.kind !== 'ref') continue;
    const source = describeRef(s.ref);
    const out = outcomes.get(refKey(s.ref))!;
    if (!out.ok) {
      if (out.missing && s.optional) skipped.push({ id: s.id, source, reason: out.reason });
      else if (out.missing) failures.push({ id: s.id, source, ...missingFix(s, out.reason) });
      else failures.push({ id: s.id, source, reason: out.reason });
      continue;
    }
    if (out.value.length === 0) {
      if (s.optional) skipped.push({ id: s.id, source, reason: 'the value is empty.' });
      else failures.push({ id: s.id, source, reason: 'the value is empty; set it, or mark the secret optional.' });
      continue;
    }
    refValue.set(s.id, out.value);
    const secret = new Secret(s.id, source, out.value);
    values.push(secret);
    if (s.mount) secrets.push(secret);
  }

  const fieldBytes = (f: FieldValue): Buffer => {
    if (f.kind === 'literal') return Buffer.from(f.text, 'utf8');
    if (f.kind === 'secret') {
      const v = refValue.get(f.name);
      if (!v) throw new InputFailed(f.name);
      return v;
    }
    const out = outcomes.get(refKey(f.ref))!;
    // A store's own message starts with the reference already (`vault:…: VAULT_ADDR is not set`): named once.
    if (!out.ok) throw new FieldError(out.reason.startsWith(`${describeRef(f.ref)}: `) ? out.reason : `${describeRef(f.ref)}: ${out.reason}`);
    if (!values.some((x) => x.value === out.value)) values.push(new Secret(`(field)`, describeRef(f.ref), out.value));
    return out.value;
  };

  for (const s of specs) {
    if (s.kind === 'ref') continue;
    try {
      let value: Buffer;
      let source: string;
      if (s.kind === 'netrc') {
        value = renderNetrc(s.entries, (_f, which, i) => fieldBytes(which === 'login' ? s.entries[i]!.login : s.entries[i]!.password));
        source = `netrc: ${s.entries.map((e) => e.machine).join(', ')}`;
      } else if (s.kind === 'npmrc') {
        value = renderNpmrc(s.entries, (_f, _w, i) => fieldBytes(s.entries[i]!.token));
        source = `npmrc: ${s.entries.map((e) => e.registry).join(', ')}`;
      } else {
        value = renderTemplate(templateText.get(s.id)!, (name) => fieldBytes({ kind: 'secret', name, at: shown`a placeholder of ${showTyped(s.path)}` }));
        source = `template: ${s.path}`;
      }
      secrets.push(new Secret(s.id, source, value));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      // Built from an input whose own failure is listed: counted apart (ResolveError.format).
      const from = err instanceof InputFailed && failures.some((f) => f.id === err.input) ? { from: err.input } : {};
      failures.push({ id: s.id, source: s.kind, reason: sentence(err.message), ...from });
    }
  }

  for (const s of secrets) {
    if (s.bytes > MAX_SECRET_BYTES) {
      failures.push({ id: s.id, source: s.source, reason: `the value is ${s.bytes} bytes; BuildKit accepts at most ${MAX_SECRET_BYTES} bytes (500 KiB) per secret.` });
    }
  }
  const failedOutputs = [...outcomes.values()].flatMap((o) => (!o.ok && o.output?.length ? [o.output] : []));
  if (failures.length > 0 && !opts.keepGoing) throw new ResolveError(failures);
  return { secrets, skipped, values, failures, failedOutputs };
}
