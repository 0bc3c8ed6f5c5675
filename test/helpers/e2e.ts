/**
 * The e2e tier's own helpers: what test/e2e/global-setup.ts decided (skip or
 * run, which docker, whether a Secret Service answers) and the real docker.
 * Only e2e test files import this (the value comes from that project's setup).
 */
import { inject } from 'vitest';
import { envFor, sh, type Sandbox } from './cli.js';

export const e2e = inject('e2e');
export const DOCKER = e2e.docker;

/** The environment of a CLI run against the real daemon. */
export function baseEnv(box: Pick<Sandbox, 'tmp' | 'cache'>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return envFor(box, DOCKER, extra);
}

export function docker(args: string[], input?: string) {
  return sh(DOCKER, args, { env: { ...process.env, DOCKER_BUILDKIT: '1' }, input });
}
