/**
 * The registry: the only list of providers. Adding `op:` or `gcp-sm:` is one
 * new file in this folder and one line here.
 */
import { showTyped, type Shown } from '../src/util/shown.js';
import { UsageError } from '../src/util/errors.js';
import { ageProvider } from './age.js';
import { awsSmProvider } from './aws-sm.js';
import { awsSsmProvider } from './aws-ssm.js';
import { cmdProvider } from './cmd.js';
import { envProvider } from './env.js';
import { fileProvider } from './file.js';
import { keychainProvider } from './keychain.js';
import { opProvider } from './op.js';
import { passProvider } from './pass.js';
import type { Readiness, ReadinessContext, SecretProvider } from './types.js';
import { vaultProvider } from './vault.js';

export const providers: readonly SecretProvider[] = [envProvider, fileProvider, keychainProvider, cmdProvider, passProvider, awsSmProvider, awsSsmProvider, vaultProvider, ageProvider, opProvider];

export function findProvider(scheme: string): SecretProvider | undefined {
  return providers.find((p) => p.scheme === scheme);
}

export function knownSchemes(): string {
  return providers.map((p) => `${p.scheme}:`).join(', ');
}

export interface Ref {
  readonly scheme: string;
  readonly key: string;
  /** Base directory for relative paths (the working directory, or the config file's directory). */
  readonly baseDir: string;
  /** References of the same spec under the keys the provider `takes` (age: `identity=`, vault: `role-id=`…), by key. */
  readonly inputs?: Readonly<Record<string, Ref>>;
}

/** True when `text` starts with a registered provider scheme (`env:`, `file:`, ...). */
export function looksLikeRef(text: string): boolean {
  const colon = text.indexOf(':');
  return colon > 0 && findProvider(text.slice(0, colon)) !== undefined;
}

/**
 * Parses `SCHEME:KEY`. `where` names the field and its position for the
 * error (`--npmrc #1 token=`); the text itself is never in the error, as a
 * value that is not a reference may be the credential itself
 * (src/util/shown.ts). A scheme-like prefix (`evn:`) is named, to point at
 * the typo.
 */
export function parseRef(text: string, baseDir: string, where: string): Ref {
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon) : '';
  const provider = findProvider(scheme);
  const notShown = 'the value is not shown, as it may be the credential itself';
  if (!provider) {
    const named = /^[a-z][a-z0-9+.-]{0,15}$/.test(scheme) ? ` ("${scheme}:" is not a known scheme)` : '';
    throw new UsageError(`${where} is not a secret reference${named}; write SCHEME:KEY with one of ${knownSchemes()} (for example env:NPM_TOKEN); ${notShown}.`);
  }
  const key = text.slice(colon + 1);
  const problem = provider.check?.(key);
  if (problem) throw new UsageError(`${where} ${scheme}: ${problem}; ${notShown}.`);
  return { scheme, key, baseDir };
}

/** Every key some provider `takes` (`identity`, `role-id`, `secret-id`): the spec keys that hold an input reference. */
export function inputKeys(): string[] {
  return [...new Set(providers.flatMap((p) => Object.keys(p.takes ?? {})))];
}

/** The schemes whose provider takes `key`, as `age:` or `vault:`, for messages. */
export function takersOf(key: string): string {
  return providers.filter((p) => p.takes?.[key]).map((p) => `${p.scheme}:`).join(' or ');
}

/**
 * Adds the input references a provider takes (`identity=REF` for age:,
 * `role-id=REF`/`secret-id=REF` for vault:; the same keys in secbuild.yml) to
 * its reference; refuses them elsewhere, and requires the required ones. An
 * input is parsed like any reference and cannot itself need inputs.
 */
export function withInputs(ref: Ref, given: (key: string) => string | undefined, where: string): Ref {
  const takes = findProvider(ref.scheme)?.takes ?? {};
  const inputs: Record<string, Ref> = {};
  for (const key of inputKeys()) {
    const text = given(key);
    if (text === undefined) {
      if (takes[key] === 'required') throw new UsageError(`${where} ${ref.scheme}: needs ${key}=REF in the same spec (for example ${key}=file:PATH or ${key}=keychain:NAME); the ${key} is read like any secret.`);
      continue;
    }
    if (!takes[key]) throw new UsageError(`${where} ${key}= is only for ${takersOf(key)} references; drop it.`);
    const input = parseRef(text, ref.baseDir, `${where} ${key}=`);
    if (Object.values(findProvider(input.scheme)?.takes ?? {}).includes('required')) {
      throw new UsageError(`${where} ${key}= cannot itself be an ${input.scheme}: reference; give it from env:, file:, keychain:, pass:… .`);
    }
    inputs[key] = input;
  }
  return Object.keys(inputs).length > 0 ? { ...ref, inputs } : ref;
}

/** A reference as secbuild prints it: credential-looking words of the key hidden (src/util/shown.ts). */
export function describeRef(ref: Ref): Shown {
  return showTyped(`${ref.scheme}:${ref.key}`);
}

export function refEnvVars(ref: Ref): string[] {
  return [...(findProvider(ref.scheme)?.envVars?.(ref.key) ?? []), ...Object.values(ref.inputs ?? {}).flatMap(refEnvVars)];
}

/**
 * Each store's readiness, once per store, for `secbuild doctor` (`all`:
 * every store) and `secbuild secrets` (the stores `refs` name). Each provider
 * is given its own references among `refs`; of one store's providers
 * (aws-sm:, aws-ssm:) a used answer wins. No value is read.
 */
export async function storeReadiness(refs: readonly Ref[], ctx: Omit<ReadinessContext, 'refs'>, all: boolean): Promise<Readiness[]> {
  const asked = providers.filter((p) => p.readiness && (all || refs.some((r) => r.scheme === p.scheme)));
  const answers = await Promise.all(asked.map((p) => p.readiness!({ ...ctx, refs: refs.filter((r) => r.scheme === p.scheme) })));
  const byStore = new Map<string, Readiness>();
  for (const r of answers) if (!byStore.get(r.store)?.used) byStore.set(r.store, r);
  return [...byStore.values()];
}
