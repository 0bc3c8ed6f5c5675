/**
 * Where docker would connect (as docker/cli resolves -H, --context,
 * DOCKER_HOST, DOCKER_CONTEXT and the config's currentContext) and whether
 * anything answers there: a real socket per case, no docker.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { DaemonUnreachableError, dockerEndpoint, probe, requireDaemon } from '../../src/engines/docker/reach.js';

const meta = (name: string) => `/cfg/contexts/meta/${createHash('sha256').update(name).digest('hex')}/meta.json`;
const files: Record<string, string> = {
  '/cfg/config.json': '{"currentContext":"rootless"}',
  [meta('rootless')]: '{"Name":"rootless","Endpoints":{"docker":{"Host":"unix:///run/user/1000/docker.sock"}}}',
  [meta('remote')]: '{"Name":"remote","Endpoints":{"docker":{"Host":"ssh://me@box"}}}',
};
const read = (p: string) => files[p];

describe('dockerEndpoint: as docker chooses it', () => {
  test.each<[string, NodeJS.ProcessEnv, { host?: string; context?: string }, string | undefined, RegExp | undefined]>([
    ['-H first', { DOCKER_HOST: 'tcp://a:1' }, { host: 'unix:///h.sock' }, 'unix:///h.sock', /^-H$/],
    ['--context before DOCKER_HOST', { DOCKER_HOST: 'tcp://a:1', DOCKER_CONFIG: '/cfg' }, { context: 'rootless' }, 'unix:///run/user/1000/docker.sock', /--context rootless/],
    ['DOCKER_HOST before DOCKER_CONTEXT', { DOCKER_HOST: 'tcp://a:1', DOCKER_CONTEXT: 'rootless', DOCKER_CONFIG: '/cfg' }, {}, 'tcp://a:1', /^DOCKER_HOST$/],
    ['DOCKER_CONTEXT', { DOCKER_CONTEXT: 'rootless', DOCKER_CONFIG: '/cfg' }, {}, 'unix:///run/user/1000/docker.sock', /DOCKER_CONTEXT=rootless/],
    ['the config\'s currentContext', { DOCKER_CONFIG: '/cfg' }, {}, 'unix:///run/user/1000/docker.sock', /docker context "rootless"/],
    ['no config: the default socket', { DOCKER_CONFIG: '/none' }, {}, 'unix:///var/run/docker.sock', /the default/],
    ['context "default"', { DOCKER_CONTEXT: 'default', DOCKER_CONFIG: '/cfg' }, {}, 'unix:///var/run/docker.sock', /DOCKER_CONTEXT=default/],
    ['a context it cannot read: unknown', { DOCKER_CONTEXT: 'gone', DOCKER_CONFIG: '/cfg' }, {}, undefined, undefined],
  ])('%s', (_, env, flags, host, from) => {
    const e = dockerEndpoint(env, flags, read);
    expect(e?.host).toBe(host);
    if (from) expect(e?.from).toMatch(from);
  });
});

describe('probe and requireDaemon (real sockets)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-unit-daemon-'));
  const servers: Server[] = [];
  afterAll(() => {
    servers.forEach((s) => s.close());
    rmSync(dir, { recursive: true, force: true });
  });
  const listening = async (name: string) => {
    const path = join(dir, name);
    const s = createServer((c) => c.destroy());
    servers.push(s);
    await new Promise<void>((r) => s.listen(path, r));
    return path;
  };

  test('a listening socket answers', async () => {
    expect(await probe(`unix://${await listening('up.sock')}`)).toBeUndefined();
  });

  test('no socket file, a dead socket, and endpoints it cannot tell', async () => {
    expect(await probe(`unix://${join(dir, 'none.sock')}`)).toBe(`there is no socket at ${join(dir, 'none.sock')}`);
    const dead = join(dir, 'dead.sock');
    writeFileSync(dead, '');
    expect(await probe(`unix://${dead}`)).toMatch(/refused/);
    expect(await probe('ssh://me@box')).toBeUndefined();
  });

  test('requireDaemon: one line naming the endpoint, where it came from and the fix', async () => {
    const env = { DOCKER_HOST: `unix://${join(dir, 'none.sock')}` };
    const err = await requireDaemon(env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonUnreachableError);
    expect((err as Error).message).toBe(
      `no Docker daemon answers at unix://${join(dir, 'none.sock')} (DOCKER_HOST): there is no socket at ${join(dir, 'none.sock')}. Start the daemon (sudo systemctl start docker), or point DOCKER_HOST or DOCKER_CONTEXT at a running one; no secret was resolved.`,
    );
  });

  test('a named buildx builder need not be the daemon: not refused', async () => {
    const env = { DOCKER_HOST: `unix://${join(dir, 'none.sock')}`, BUILDX_BUILDER: 'remote' };
    await expect(requireDaemon(env)).resolves.toBeUndefined();
    await expect(requireDaemon({ DOCKER_HOST: env.DOCKER_HOST }, { dockerArgs: ['--builder', 'x', '.'] })).resolves.toBeUndefined();
  });
});
