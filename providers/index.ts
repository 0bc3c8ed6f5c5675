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
import type { SecretProvider } from './types.js';
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
  /** `identity=REF` of the same spec, for a provider that takes one (age:). */
  readonly identity?: Ref;
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

/**
 * Adds `identity=REF` (`identity:` in secbuild.yml) to a reference whose
 * provider takes one (age:); refuses it elsewhere, and requires it there.
 */
export function withIdentity(ref: Ref, identity: string | undefined, where: string): Ref {
  const takes = findProvider(ref.scheme)?.takesIdentity === true;
  if (identity === undefined) {
    if (takes) throw new UsageError(`${where} ${ref.scheme}: needs identity=REF in the same spec (for example identity=file:~/.config/age/key.txt); the identity is read like any secret.`);
    return ref;
  }
  if (!takes) throw new UsageError(`${where} identity= is only for age: references; drop it.`);
  const id = parseRef(identity, ref.baseDir, `${where} identity=`);
  if (findProvider(id.scheme)?.takesIdentity) throw new UsageError(`${where} identity= cannot itself be an ${id.scheme}: reference; give it from env:, file:, keychain:, pass:… .`);
  return { ...ref, identity: id };
}

/** A reference as secbuild prints it: credential-looking words of the key hidden (src/util/shown.ts). */
export function describeRef(ref: Ref): Shown {
  return showTyped(`${ref.scheme}:${ref.key}`);
}

export function refEnvVars(ref: Ref): string[] {
  return [...(findProvider(ref.scheme)?.envVars?.(ref.key) ?? []), ...(ref.identity ? refEnvVars(ref.identity) : [])];
}
