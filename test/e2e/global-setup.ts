/**
 * Decides once whether the end-to-end tier can run: a Docker daemon that
 * builds with BuildKit through SECBUILD_E2E_DOCKER (default: Debian's
 * /usr/bin/docker 20.10 client), the local base image and a Secret Service.
 * In CI a missing daemon or Secret Service is a failure; elsewhere the tier
 * (or its keychain file) is skipped with one visible line.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { BASE as BASE_IMAGE } from '../helpers/cli.js';
import { secretServiceProblem } from '../helpers/keyring.js';
import { sweepOrphans } from '../helpers/fixture-dirs.js';
import { sweepRunDirs } from '../helpers/run-dirs.js';
import { probeRemoteDaemon, startRemoteDaemon, type RemoteDaemonInfo } from '../helpers/remote-daemon.js';
import { DEBIAN_BASE, startServers, VERDACCIO_DIR, type ServersInfo } from '../helpers/servers.js';

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
  if (!existsSync(new URL('../../dist/secbuild.cjs', import.meta.url))) return 'dist/secbuild.cjs is missing (npm run build)';
  return undefined;
}

/** What the real servers (test/helpers/servers.ts) need that provisioning installs, or undefined. */
function serversProblem(docker: string): string | undefined {
  for (const bin of ['/usr/sbin/nginx', '/usr/sbin/fcgiwrap', '/usr/lib/git-core/git-http-backend', '/usr/bin/python3', '/usr/bin/openssl']) {
    if (!existsSync(bin)) return `${bin} is missing (.ci/provision.sh installs nginx-light, fcgiwrap, git, python3-pip, openssl)`;
  }
  if (!existsSync(join(VERDACCIO_DIR, 'node_modules', '.bin', 'verdaccio'))) return `Verdaccio is not installed in ${VERDACCIO_DIR} (scripts/verdaccio-install.sh)`;
  try {
    execFileSync(docker, ['image', 'inspect', DEBIAN_BASE], { stdio: 'ignore', timeout: 20_000 });
  } catch {
    return `the base image ${DEBIAN_BASE} is missing (scripts/debian-image.sh builds it; .ci/provision.sh runs it)`;
  }
  return undefined;
}

/**
 * The real servers and the second daemon (issue 12), started once for the run
 * when the tier runs at all. In CI a missing piece is a failure; elsewhere
 * the suites that need them skip, each with one line (describeE2E in
 * test/helpers/e2e.ts).
 */
async function startFixtures(docker: string, ci: boolean): Promise<{ servers: ProvidedServers; remote: ProvidedRemote; stop: () => Promise<void> }> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => process.stderr.write(`[e2e] teardown: ${(err as Error).message}\n`));
  };
  let servers: ProvidedServers = { skip: serversProblem(docker) ?? '' };
  if (servers.skip && ci) throw new Error(`e2e tests cannot run in CI: ${servers.skip}`);
  let remote: ProvidedRemote = { skip: probeRemoteDaemon(docker).problem ?? '' };
  try {
    const t = Date.now();
    await sweepOrphans(docker);
    const [s, r] = await Promise.all([
      servers.skip ? undefined : startServers(docker),
      remote.skip ? undefined : startRemoteDaemon(docker),
    ]);
    if (s) (stops.push(s.stop), (servers = { skip: '', info: s.info }));
    if (r) (stops.push(r.stop), (remote = { skip: '', info: r.info }));
    process.stdout.write(`[e2e] real servers and second daemon ready in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  } catch (err) {
    await stop();
    if (ci) throw err;
    const why = (err as Error).message.split('\n')[0]!;
    servers = { skip: why };
    remote = { skip: why };
  }
  if (remote.skip && ci) throw new Error(`e2e tests cannot run in CI: ${remote.skip}`);
  return { servers, remote, stop };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now() - 1000;
  const docker = process.env.SECBUILD_E2E_DOCKER ?? '/usr/bin/docker';
  const problem = check(docker);
  const ci = process.env.CI === 'true' || process.env.CI === '1';
  if (problem && ci) throw new Error(`e2e tests cannot run in CI: ${problem}`);
  if (problem) process.stdout.write(`\n[e2e] SKIPPED: ${problem}. Outside CI the end-to-end tier is skipped; run .ci/provision.sh to enable it.\n\n`);
  const keyring = secretServiceProblem();
  if (keyring && ci) throw new Error(`e2e tests cannot run in CI: no Secret Service: ${keyring}`);
  const run = randomBytes(3).toString('hex');
  project.provide('run', run);
  project.provide('e2e', { skip: problem ?? '', docker });
  const fixtures = problem ? undefined : await startFixtures(docker, ci);
  project.provide('servers', fixtures?.servers ?? { skip: problem ?? '' });
  project.provide('remote', fixtures?.remote ?? { skip: problem ?? '' });
  return async () => {
    await fixtures?.stop();
    sweepRunDirs(started, `secbuild-e2e-${run}-`);
  };
}

type ProvidedServers = { skip: string; info?: ServersInfo };
type ProvidedRemote = { skip: string; info?: RemoteDaemonInfo };

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: { skip: string; docker: string };
    /** The real git, pip and npm servers (test/helpers/servers.ts); skip says why not. */
    servers: ProvidedServers;
    /** The second Docker daemon (test/helpers/remote-daemon.ts); skip says why not. */
    remote: ProvidedRemote;
  }
}
