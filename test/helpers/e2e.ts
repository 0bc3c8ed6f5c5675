/**
 * The e2e tier's own helpers: what test/e2e/global-setup.ts decided (skip or
 * run, which docker, whether a Secret Service answers) and the real docker.
 * Only e2e test files import this (the value comes from that project's setup).
 */
import { readFileSync } from 'node:fs';
import { expect, inject } from 'vitest';
import { describeUnless, type Missing } from './ci.js';
import { envFor, sh, waitFor, type Sandbox } from './cli.js';

export const e2e = inject('e2e');
export const DOCKER = e2e.docker;

/**
 * An e2e suite: `describe(name, body)` when the tier runs and `needs` (called
 * only then) names nothing missing. Otherwise its body never runs (see
 * describeUnless): without a daemon the global setup has said why, once;
 * a missing piece of its own (podman, the real servers) is said here.
 */
export function describeE2E(name: string, body: () => void): void;
export function describeE2E(name: string, needs: () => Missing, body: () => void): void;
export function describeE2E(name: string, ...args: [() => void] | [() => Missing, () => void]): void {
  const [needs, body] = args.length === 2 ? args : [undefined, args[0]];
  if (e2e.skip) describeUnless(e2e.skip, name, body, { quiet: true });
  else describeUnless(needs?.(), name, body, { what: `[e2e] ${name}` });
}

/** The environment of a CLI run against the real daemon. */
export function baseEnv(box: Pick<Sandbox, 'tmp' | 'cache'>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return envFor(box, DOCKER, extra);
}

export function docker(args: string[], input?: string) {
  return sh(DOCKER, args, { env: { ...process.env, DOCKER_BUILDKIT: '1' }, input });
}

/** The text a server's log gained since byte offset `from`, colour codes stripped (a server may colour it when the environment asks, FORCE_COLOR). */
export function logSince(file: string, from: number): string {
  return readFileSync(file).subarray(from).toString('utf8').replace(/\x1b\[[0-9;]*m/g, '');
}

/** Verdaccio's logger writes asynchronously: waits (up to 30 s) for `line` in what `file` gained since `from`, then expects it. */
export async function expectLogged(file: string, from: number, line: RegExp): Promise<void> {
  await waitFor(`${line} in ${file}`, () => line.test(logSince(file, from)), 30_000, 100).catch(() => undefined);
  expect(logSince(file, from)).toMatch(line);
}
