/**
 * The registry: the only list of providers. Adding `vault:` or `op:` is one
 * new file in this folder and one line here.
 */
import { UsageError } from '../src/util/errors.js';
import { cmdProvider } from './cmd.js';
import { envProvider } from './env.js';
import { fileProvider } from './file.js';
import { keychainProvider } from './keychain.js';
import type { SecretProvider } from './types.js';

export const providers: readonly SecretProvider[] = [envProvider, fileProvider, keychainProvider, cmdProvider];

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
}

/** True when `text` starts with a registered provider scheme (`env:`, `file:`, ...). */
export function looksLikeRef(text: string): boolean {
  const colon = text.indexOf(':');
  return colon > 0 && findProvider(text.slice(0, colon)) !== undefined;
}

/**
 * Parses `SCHEME:KEY`. `where` names the flag or config key for the error,
 * which lists the known schemes.
 */
export function parseRef(text: string, baseDir: string, where: string): Ref {
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon) : '';
  const provider = findProvider(scheme);
  if (!provider) {
    throw new UsageError(`${where}: "${text}" is not a secret reference; write SCHEME:KEY with one of ${knownSchemes()} (for example env:NPM_TOKEN).`);
  }
  const key = text.slice(colon + 1);
  const problem = provider.check?.(key);
  if (problem) throw new UsageError(`${where}: ${problem} in "${scheme}:${key}".`);
  return { scheme, key, baseDir };
}

export function describeRef(ref: Ref): string {
  return `${ref.scheme}:${ref.key}`;
}

export function refEnvVars(ref: Ref): string[] {
  return findProvider(ref.scheme)?.envVars?.(ref.key) ?? [];
}
