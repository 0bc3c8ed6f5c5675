/**
 * What the secret-store providers that run a store's own CLI share (`pass:`,
 * `aws-sm:`, `aws-ssm:`): the CLI's environment and one bounded run.
 *
 * - The CLI's environment is PATH plus the variables the store names
 *   (`storeEnv`), taken from the scrubbed child environment: a variable some
 *   secret is read from never reaches it, and nothing else of secbuild's
 *   environment does either.
 * - `runStoreCli` runs it through the exec seam without a terminal, bounded
 *   in time (SECBUILD_CMD_TIMEOUT, as `cmd:`) and in output (500 KiB + 1
 *   byte: past that it is killed and refused), and turns "not installed",
 *   "did not finish" and "printed too much" into one sentence naming the
 *   store and the reference. What the CLI printed is never put in a message:
 *   each provider maps its exit status and stderr to its own words.
 */
import type { ChildEnv } from '../src/run/env.js';
import { minimalEnv, withVars } from '../src/run/env.js';
import { capture, type CaptureResult } from '../src/run/exec.js';
import { MAX_SECRET_BYTES } from '../src/secrets/limits.js';
import { ProviderError, type ResolveContext } from './types.js';

/**
 * PATH and the named variables that are set and not empty in the scrubbed
 * child environment, nothing else. Empty counts as unset, as in the stores'
 * own scripts (`${PASSWORD_STORE_DIR:-…}`); the aws CLI would take
 * AWS_PROFILE="" as a profile named "".
 */
export function storeEnv(ctx: Pick<ResolveContext, 'childEnv'>, names: readonly string[]): ChildEnv {
  const picked: Record<string, string | undefined> = {};
  for (const name of names) picked[name] = ctx.childEnv[name] || undefined;
  return withVars(minimalEnv({ PATH: ctx.childEnv.PATH }), picked);
}

export interface StoreCall {
  /** The store as messages name it: `pass:app/npm`. */
  readonly ref: string;
  /** The CLI's binary, and how to install it (a sentence fragment: `install it with: apt-get install pass`). */
  readonly tool: string;
  readonly install: string;
  readonly env: ChildEnv;
  readonly cwd?: string;
  /** The CLI's standard input (an age identity): never argv, never a file. */
  readonly input?: Buffer;
}

/** `TOOL VERSION` from the CLI's version output, or undefined when it cannot be started or fails; never a value. */
export async function cliVersion(tool: string, args: readonly string[], env: ChildEnv): Promise<string | undefined> {
  const r = await capture(tool, args, { env, timeoutMs: 15_000, maxBytes: 64 * 1024, noTerminal: true });
  if (r.failedToStart || r.exitCode !== 0) return undefined;
  const text = `${r.stdout.toString('utf8')}\n${r.stderr}`;
  const version = /\d+\.\d+(?:\.\d+)?/.exec(text)?.[0];
  return version ? `${tool} ${version}` : tool;
}

/** Runs the store's CLI once; throws ProviderError when it could not start, ran too long or printed too much. */
export async function runStoreCli(call: StoreCall, args: readonly string[], ctx: ResolveContext): Promise<CaptureResult> {
  const asked = Number(ctx.env.SECBUILD_CMD_TIMEOUT ?? 120);
  const timeoutSec = Number.isFinite(asked) && asked > 0 ? asked : 120;
  const r = await capture(call.tool, args, { env: call.env, cwd: call.cwd ?? ctx.cwd, timeoutMs: timeoutSec * 1000, maxBytes: MAX_SECRET_BYTES + 1, noTerminal: true, ...(call.input ? { input: call.input } : {}) });
  if (r.failedToStart === 'ENOENT') throw new ProviderError(`${call.ref}: the ${call.tool} command was not found on PATH; ${call.install}`);
  if (r.failedToStart) throw new ProviderError(`${call.ref}: the ${call.tool} command could not be started (${r.failedToStart}); ${call.install}`);
  if (r.timedOut) throw new ProviderError(`${call.ref}: ${call.tool} did not finish within ${timeoutSec}s (SECBUILD_CMD_TIMEOUT); run it by hand to see what it waits for`);
  // Past the bound whether or not the seam flagged it (pass's pipeline can end as its stdout is cut: exit 0, no flag).
  if (r.overflowed || r.stdout.length > MAX_SECRET_BYTES) {
    if (r.stdout.length > MAX_SECRET_BYTES) throw new ProviderError(`${call.ref} is more than 500 KiB; BuildKit accepts at most ${MAX_SECRET_BYTES} bytes (500 KiB) per secret`);
    throw new ProviderError(`${call.ref}: ${call.tool} wrote more than 500 KiB to its stderr and was stopped; run it by hand to see why`);
  }
  return r;
}
