/**
 * Remote podman is refused on every run in which remote mode is in effect,
 * and only then — whatever an earlier run learned (src/engines/podman/detect.ts).
 * Against Debian's real podman (test/helpers/podman.ts) and a real podman
 * service on a socket of this test's own (`podman system service`), so that
 * a build that slipped through in remote mode would really run remotely: the
 * client would pack the secret file into the build context it sends.
 * Remote mode is switched on the way a user's configuration does it: a
 * containers.conf with `[engine] remote = true` named by CONTAINERS_CONF.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { detectPodman } from '../../src/engines/podman/detect.js';
import { scrubEnv } from '../../src/run/env.js';
import { skipUnlessCI } from '../helpers/ci.js';
import { context, nonce, runCli, sandbox, waitFor } from '../helpers/cli.js';
import { describeE2E } from '../helpers/e2e.js';
import { podman, PODMAN, podmanEnv, podmanProblem } from '../helpers/podman.js';

describeE2E('remote podman, decided on every run', podmanProblem, () => {
  const box = sandbox('sb-podr-');
  const id = nonce();
  const image = `secbuild-trust-remote:${id}`;
  const socket = join(box.dir, 'podman.sock');
  const remoteConf = join(box.dir, 'remote.conf');
  let service: ChildProcess | undefined;
  let ctx: ReturnType<typeof context>;
  beforeAll(async () => {
    service = spawn(PODMAN, ['system', 'service', '--time=0', `unix://${socket}`], { stdio: 'ignore' });
    await waitFor('the podman service socket', () => existsSync(socket), 30_000);
    writeFileSync(remoteConf, `[engine]\nremote = true\nactive_service = "secbuild-test"\n[engine.service_destinations.secbuild-test]\nuri = "unix://${socket}"\n`);
    ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok test -s /run/secrets/tok\n');
  });
  afterAll(async () => {
    service?.kill('SIGTERM');
    await podman(['rmi', '-f', image]);
    ctx?.cleanup();
    box.cleanup();
  });

  const build = (cache: string, extra: NodeJS.ProcessEnv = {}) =>
    runCli(['--network', 'none', '-t', image, '--secret', 'id=tok,from=env:E2E_TOK', ctx.dir], {
      env: podmanEnv({ tmp: box.tmp, cache: join(box.dir, cache) }, { E2E_TOK: `remote-${id}`, ...extra }),
    });
  const REFUSED = /secbuild does not build with remote podman: .*remote/;

  test('after a local build, CONTAINERS_CONF with [engine] remote = true is refused; without it a local build works again', async () => {
    const local = await build('cache-a');
    expect(local.code, local.stderr).toBe(0);
    const remote = await build('cache-a', { CONTAINERS_CONF: remoteConf });
    expect(remote.stderr).toMatch(REFUSED);
    expect(remote.code).toBe(2);
    const again = await build('cache-a');
    expect(again.code, again.stderr).toBe(0);
  });

  test('a refusal is not remembered: the first run in remote mode is refused, the next local one builds', async () => {
    const remote = await build('cache-b', { CONTAINERS_CONF: remoteConf });
    expect(remote.stderr).toMatch(REFUSED);
    expect(remote.code).toBe(2);
    const local = await build('cache-b');
    expect(local.code, local.stderr).toBe(0);
  });

  const notRoot = skipUnlessCI(process.geteuid?.() !== 0 && 'it chowns podman.json to uid 65534, which needs root', '[e2e] podman-remote: the other-owner case');
  test.skipIf(notRoot)('a podman.json of another user is not trusted: the runtime the reaper runs comes from podman, not from the file', async () => {
    const local = await build('cache-c');
    expect(local.code, local.stderr).toBe(0);
    const file = join(box.dir, 'cache-c', 'secbuild', 'podman.json');
    const entries = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { runtime: string }>;
    const real = Object.values(entries)[0]!.runtime;
    expect(real).toMatch(/^\//);
    for (const e of Object.values(entries)) e.runtime = join(box.dir, 'not-a-runtime.sh');
    writeFileSync(file, JSON.stringify(entries));
    chownSync(file, 65534, 65534); // as a user's own file is to root under `sudo -E`
    const facts = await detectPodman(PODMAN, scrubEnv({ ...process.env, XDG_CACHE_HOME: join(box.dir, 'cache-c') }, new Set()));
    expect(facts.runtime).toBe(real);
  });
});
