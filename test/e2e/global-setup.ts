/**
 * Decides once whether the end-to-end tier can run: a Docker daemon that
 * builds with BuildKit through SECBUILD_E2E_DOCKER (default: Debian's
 * /usr/bin/docker 20.10 client), the local base image and a Secret Service.
 * In CI a missing daemon or Secret Service is a failure; elsewhere the tier
 * (or its keychain file) is skipped with one visible line.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { BASE as BASE_IMAGE } from '../helpers/cli.js';
import { secretServiceProblem } from '../helpers/keyring.js';

function check(docker: string): string | undefined {
  if (!existsSync(docker)) return `${docker} does not exist (install docker.io, or set SECBUILD_E2E_DOCKER)`;
  try {
    execFileSync(docker, ['info'], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return `the Docker daemon does not answer through ${docker} (start dockerd; .ci/provision.sh does)`;
  }
  try {
    execFileSync(docker, ['image', 'inspect', BASE_IMAGE], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return `the base image ${BASE_IMAGE} is missing (.ci/provision.sh imports it from busybox-static)`;
  }
  if (!existsSync(new URL('../../dist/secbuild.js', import.meta.url))) return 'dist/secbuild.js is missing (npm run build)';
  return undefined;
}

/**
 * Removes the sandboxes and build contexts this run created but did not clean
 * (a skipped describe block runs its body, creating them, but not its afterAll).
 */
function sweepLeftovers(since: number): void {
  for (const [dir, prefix] of [['/dev/shm', 'secbuild-e2e-'], [tmpdir(), 'secbuild-e2e-ctx-']] as const) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.startsWith(prefix)) continue;
      const path = join(dir, name);
      try {
        if (statSync(path).ctimeMs >= since) rmSync(path, { recursive: true, force: true });
      } catch {
        // gone already
      }
    }
  }
}

export default function setup(project: TestProject): () => void {
  const started = Date.now() - 1000;
  const docker = process.env.SECBUILD_E2E_DOCKER ?? '/usr/bin/docker';
  const problem = check(docker);
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  if (problem && ci) throw new Error(`e2e tests cannot run in CI: ${problem}`);
  if (problem) process.stdout.write(`\n[e2e] SKIPPED: ${problem}. Outside CI the end-to-end tier is skipped; run .ci/provision.sh to enable it.\n\n`);
  const keyring = secretServiceProblem();
  if (keyring && ci) throw new Error(`e2e tests cannot run in CI: no Secret Service: ${keyring}`);
  project.provide('e2e', { skip: problem ?? '', docker });
  return () => sweepLeftovers(started);
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: { skip: string; docker: string };
  }
}
