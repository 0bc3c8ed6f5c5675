/**
 * The engines of the e2e matrix (issue 23) and whether each is here:
 * docker 20.10 (Debian's /usr/bin/docker, classic BuildKit with
 * DOCKER_BUILDKIT=1), docker 28 with the buildx plugin (/usr/local/bin/docker),
 * daemon 26.1 (test/helpers/remote-daemon.ts) and Compose v2 — the trixie
 * plugins and the daemon are installed and started by .ci/provision.sh.
 * A missing piece skips its part with one "SKIPPED: why" line; in CI it fails
 * (test/helpers/ci.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { skipUnlessCI } from './ci.js';
import { e2e } from './e2e.js';

/** Debian's 20.10 client and a 23+ client whose `docker build` is buildx. */
export const D20 = process.env.SECBUILD_E2E_DOCKER ?? '/usr/bin/docker';
export const D28 = process.env.SECBUILD_E2E_DOCKER_BUILDX ?? '/usr/local/bin/docker';

function out(bin: string, args: string[]): string | undefined {
  try {
    return execFileSync(bin, args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DOCKER_BUILDKIT: '1' } }).trim();
  } catch {
    return undefined;
  }
}

/** One skip decision per engine, printed once: `[e2e] <what> SKIPPED: <why>`. */
function decide(what: string, problem: () => string | undefined): { skip: boolean; why: string } {
  // Without the tier's own daemon the global setup has said why, once; nothing is probed.
  if (e2e.skip) return { skip: true, why: e2e.skip };
  const why = problem();
  const skip = skipUnlessCI(why && `${why}; run .ci/provision.sh`, `[e2e] ${what}`);
  return { skip, why: why ?? '' };
}

function buildxProblem(): string | undefined {
  if (!existsSync(D28)) return `${D28} does not exist`;
  const help = out(D28, ['build', '--help']);
  return help && /docker buildx build/.test(help) ? undefined : `\`${D28} build\` is not buildx (the docker-buildx plugin is missing)`;
}

function composeProblem(): string | undefined {
  const v = out(D20, ['compose', 'version', '--short']);
  return v && /^v?2\./.test(v) ? undefined : '`docker compose` is not Compose v2 (the docker-compose plugin is missing)';
}

/** (b): docker 28 with the buildx plugin, against the main daemon. */
export const buildx = decide('docker CLI with buildx', buildxProblem);
/** (d): Compose v2 as `docker compose`. */
export const composeV2 = decide('Compose v2', composeProblem);
