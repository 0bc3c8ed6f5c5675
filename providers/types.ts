/**
 * The one contract every secret provider implements. A reference is written
 * `SCHEME:KEY` (for example `env:NPM_TOKEN`); the registry in `./index.ts`
 * maps the scheme to a provider, the provider turns the key into bytes.
 *
 * Rules every provider follows (checked by test/unit/providers.conformance.test.ts):
 * - `resolve` returns the value as a Buffer, byte-exact.
 * - A key that does not exist throws `MissingSecret` (so `optional` secrets can be skipped).
 * - Any other failure throws `ProviderError`. Neither message ever contains a value.
 */
import type { ChildEnv } from '../src/run/env.js';

export interface ResolveContext {
  /** The environment secbuild was started with (read-only). */
  readonly env: NodeJS.ProcessEnv;
  /** Environment for child processes a provider starts: secret sources removed. */
  readonly childEnv: ChildEnv;
  /** Directory that relative paths are resolved against. */
  readonly cwd: string;
  /**
   * The resolved references of the spec's keys the provider `takes`
   * (age:'s `identity=`, vault:'s `role-id=`/`secret-id=`), by key; a key
   * not given is absent.
   */
  readonly inputs?: Readonly<Record<string, Buffer>>;
}

export interface SecretProvider {
  /** The part before the first colon of a reference. */
  readonly scheme: string;
  /** One line for `--help` and the unknown-scheme error, e.g. `env:NAME  an environment variable`. */
  readonly usage: string;
  /** Checks the key's syntax without resolving; returns a problem sentence (never quoting the key) or undefined. */
  check?(key: string): string | undefined;
  /** Printable description of where the value comes from (no value, ever). */
  describe(key: string, ctx: ResolveContext): string;
  /** Environment variables this reference reads: removed from every child's environment (`NAME_*`: every name with that prefix). */
  envVars?(key: string): string[];
  resolve(key: string, ctx: ResolveContext): Promise<Buffer>;
  /**
   * Keys of the same spec whose value is another reference, resolved first
   * through its own provider and given as ctx.inputs (age: `identity=REF`;
   * vault: `role-id=REF`, `secret-id=REF`); `required` ones must be given.
   * The same keys are accepted in secbuild.yml beside `from:`.
   */
  readonly takes?: Readonly<Record<string, 'required' | 'optional'>>;
  /**
   * For `secbuild doctor` and `secbuild secrets`: whether the store can be
   * used here (its CLI found, credentials or a store present), without
   * reading any value. Providers of one store return the same `store` name;
   * it is printed once.
   */
  readiness?(ctx: ReadinessContext): Promise<Readiness>;
}

export interface ReadinessContext extends Pick<ResolveContext, 'env' | 'childEnv'> {
  /** This provider's references in the specs (doctor: ./secbuild.yml's), each with its inputs by key (vault: `role-id`). */
  readonly refs: readonly { readonly inputs?: Readonly<Record<string, unknown>> }[];
}

export interface Readiness {
  readonly store: string;
  readonly ok: boolean;
  /**
   * Whether the user shows they use the store: a spec references it, or its
   * variables or files are there. Doctor warns only about a used store.
   */
  readonly used: boolean;
  /**
   * One sentence: what was found, or what is missing and the fix. For an
   * unused store that is not ready: what its references would need (doctor
   * prints it as `not set up (TEXT)`).
   */
  readonly text: string;
}

/** True when a variable whose name matches `names` is set and not empty. */
export function anySet(env: Readonly<Record<string, string | undefined>>, names: RegExp): boolean {
  return Object.entries(env).some(([k, v]) => v && names.test(k));
}

/** The key names nothing (unset variable, absent file, no keychain item). */
export class MissingSecret extends Error {
  override name = 'MissingSecret';
}

/** The provider could not produce a value for another reason. */
/**
 * The provider could not produce a value for another reason. `output` is what
 * it produced before failing (a command's stdout): never shown, only used to
 * mask the message — a failing command may echo its own value to stderr.
 */
export class ProviderError extends Error {
  override name = 'ProviderError';
  readonly output: Buffer | undefined;
  constructor(message: string, options: { output?: Buffer } = {}) {
    super(message);
    this.output = options.output;
  }
}
