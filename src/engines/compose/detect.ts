/**
 * Which engine builds a compose project here, and why.
 *
 * - compose: `docker compose version` answers 2.x or later — Compose v2
 *   as a docker CLI plugin, which has build secrets.
 * - direct: anything else. secbuild reads the compose files itself and runs one
 *   BuildKit `docker build` per service.
 *
 * The standalone `docker-compose` 1.x (Debian 12's docker-compose 1.29) has no
 * build secrets and is never used; doctor mentions it when it is on PATH.
 * Not cached: installing the plugin does not change the docker binary.
 */
import { statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { majorOf } from '../docker/detect.js';
import { composeAtLeast } from './argv.js';
import { UsageError } from '../../util/errors.js';
import type { ChildEnv } from '../../run/env.js';
import { capture } from '../../run/exec.js';

export interface ComposeEngineChoice {
  engine: 'compose' | 'direct';
  why: string;
  /** Compose's version without the leading v, when it answered. */
  version?: string;
}

/**
 * Compose v2's answer to `docker compose version` ("Docker Compose version
 * v2.29.1"), or why there is none. (Not `--short`: a CLI without the plugin then
 * complains about the flag instead of the missing command.)
 */
export async function probeCompose(docker: string, env: ChildEnv): Promise<{ version?: string; problem?: string }> {
  const r = await capture(docker, ['compose', 'version'], { env, timeoutMs: 15_000 });
  if (r.failedToStart) return { problem: `${docker} could not be started (${r.failedToStart})` };
  const out = r.stdout.toString('utf8').trim().split('\n')[0] ?? '';
  if (r.exitCode !== 0) {
    const why = r.stderr.trim().split('\n')[0] ?? '';
    return { problem: `the Compose v2 plugin is missing (\`docker compose version\` failed${why ? `: ${why.replace(/\.$/, '')}` : ''})` };
  }
  const version = /v?(\d+\.\d+\.\d+[^\s,]*)/.exec(out)?.[1];
  if (!version || !(majorOf(version) >= 2)) return { problem: `\`docker compose version\` reports "${out || 'nothing'}", not Compose v2` };
  return { version };
}

export async function chooseComposeEngine(docker: string, env: ChildEnv, forced?: 'compose' | 'direct'): Promise<ComposeEngineChoice> {
  if (forced === 'direct') return { engine: 'direct', why: '--engine direct' };
  const probe = await probeCompose(docker, env);
  if (probe.version) return { engine: 'compose', version: probe.version, why: `${forced ? '--engine compose; ' : ''}Compose v${probe.version} answers \`docker compose\`` };
  if (forced === 'compose') {
    throw new UsageError(`--engine compose: ${probe.problem}; install the Compose v2 plugin (docker-compose-plugin), or use --engine direct.`);
  }
  return { engine: 'direct', why: `${probe.problem}; secbuild reads the compose files and runs one docker build per service` };
}

/** `!override` in an override file needs Compose 2.24.4 or later. */
export function supportsOverrideTag(version: string | undefined): boolean {
  return composeAtLeast(version, [2, 24, 4]);
}

/** The standalone `docker-compose` 1.x on PATH, if any: never used, but worth a word in doctor. */
export async function legacyCompose(env: ChildEnv): Promise<string | undefined> {
  const path = (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'docker-compose')).find((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (!path) return undefined;
  const r = await capture(path, ['version', '--short'], { env, timeoutMs: 15_000 });
  const v = r.stdout.toString('utf8').trim().replace(/^v/, '');
  return majorOf(v) === 1 ? `${path} (${v})` : undefined;
}
