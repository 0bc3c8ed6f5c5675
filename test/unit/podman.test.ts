/**
 * The podman engine's pure parts: engine choice, the --secret values buildah
 * can parse, `podman info` reading, the refusal of remote podman, the run
 * directory layout of a podman child (its own TMPDIR, the reaper script) and
 * the reaper itself, run by /bin/sh against stand-in runtime and podman
 * binaries that only record their argv.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseComposeArgs } from '../../src/args/compose.js';
import { parseBuildArgs } from '../../src/args/build.js';
import { podmanBuildArgv } from '../../src/engines/podman/argv.js';
import { readInfo, refuseRemote } from '../../src/engines/podman/detect.js';
import { podmanEngine } from '../../src/engines/podman/engine.js';
import { reapScript } from '../../src/engines/podman/reap.js';
import { defaultDockerfile } from '../../src/engines/engine.js';
import { askedEngine } from '../../src/engines/select.js';
import { scrubEnv } from '../../src/run/env.js';

const dir = mkdtempSync(join(tmpdir(), 'secbuild-unit-podman-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('askedEngine', () => {
  test.each<[{ builder?: string; podman?: string }, NodeJS.ProcessEnv, string | undefined]>([
    [{}, {}, undefined],
    [{ builder: 'podman' }, {}, 'podman'],
    [{ builder: 'docker' }, { SECBUILD_ENGINE: 'podman' }, 'docker'],
    [{}, { SECBUILD_ENGINE: 'podman' }, 'podman'],
    [{ podman: '/usr/bin/podman' }, {}, 'podman'],
    [{ podman: '/usr/bin/podman' }, { SECBUILD_ENGINE: 'docker' }, 'docker'],
    [{}, { SECBUILD_PODMAN: '/usr/bin/podman' }, undefined],
  ])('%j with %j → %s', (o, env, want) => {
    expect(askedEngine(o, env)).toBe(want);
  });

  test.each<[{ builder?: string }, NodeJS.ProcessEnv, RegExp]>([
    [{ builder: 'buildah' }, {}, /^--engine buildah: expected docker or podman\.$/],
    [{}, { SECBUILD_ENGINE: 'Podman' }, /^SECBUILD_ENGINE Podman: expected docker or podman\.$/],
  ])('%j %j throws', (o, env, message) => {
    expect(() => askedEngine(o, env)).toThrow(message);
  });

  test('--engine and --podman are own options of build and verify; compose takes docker|podman beside compose|direct', () => {
    const b = parseBuildArgs(['--engine', 'podman', '--podman', '/opt/podman', '-t', 'app', '.']);
    expect([b.builder, b.podman, b.dockerArgs]).toEqual(['podman', '/opt/podman', ['-t', 'app', '.']]);
    const c = parseComposeArgs(['build', '--engine', 'direct', '--engine', 'podman']);
    expect([c.engine, c.builder]).toEqual(['direct', 'podman']);
    expect(() => parseComposeArgs(['build', '--engine', 'buildah'])).toThrow(/expected compose or direct \(the compose engine\), or docker or podman/);
  });
});

test('without -f podman reads Containerfile when there is one, else Dockerfile; docker always Dockerfile', () => {
  const both = join(dir, 'both');
  const only = join(dir, 'only-dockerfile');
  mkdirSync(both);
  mkdirSync(only);
  writeFileSync(join(both, 'Containerfile'), 'FROM x\n');
  writeFileSync(join(both, 'Dockerfile'), 'FROM y\n');
  writeFileSync(join(only, 'Dockerfile'), 'FROM y\n');
  expect(defaultDockerfile(both, 'podman')).toBe(join(both, 'Containerfile'));
  expect(defaultDockerfile(both, 'docker')).toBe(join(both, 'Dockerfile'));
  expect(defaultDockerfile(only, 'podman')).toBe(join(only, 'Dockerfile'));
});

describe('podmanBuildArgv', () => {
  test.each<[string, string, string]>([
    ['tok', '/dev/shm/secbuild-1-a/00-tok', 'id=tok,src=/dev/shm/secbuild-1-a/00-tok,type=file'],
    // An env variable named like the id would make buildah read the variable named by src: type=file prevents it.
    ['HOME', '/run/x/00-HOME', 'id=HOME,src=/run/x/00-HOME,type=file'],
    ['a=b', '/tmp/with space/00-a_b', 'id=a=b,src=/tmp/with space/00-a_b,type=file'],
  ])('id %j, path %j → %j', (id, path, value) => {
    expect(podmanBuildArgv([{ id, path }], ['-t', 'app', '.'])).toEqual(['build', '--secret', value, '-t', 'app', '.']);
  });

  test.each<[string, string, RegExp]>([
    ['a,b', '/tmp/x', /secret id "a,b" holds a comma/],
    ['tok', '/tmp/a,b/00-tok', /secret file path "\/tmp\/a,b\/00-tok" holds a comma.*--tmpdir/],
    ['t"k', '/tmp/x', /secret id "t\\"k"/],
  ])('id %j, path %j throws (buildah splits on every comma)', (id, path, message) => {
    expect(() => podmanBuildArgv([{ id, path }], [])).toThrow(message);
  });
});

describe('podman info and remote podman', () => {
  const info = (host: object) => JSON.stringify({ host: { security: { rootless: true }, ociRuntime: { path: '/usr/bin/crun' }, ...host }, store: { graphRoot: '/home/u/.local/share/containers/storage' }, version: { Version: '4.9.3' } });

  test('reads version, rootless, graph root, runtime and remoteness', () => {
    expect(readInfo('/usr/bin/podman', info({ serviceIsRemote: false }))).toEqual({
      podman: '/usr/bin/podman', version: '4.9.3', rootless: true, graphRoot: '/home/u/.local/share/containers/storage', runtime: '/usr/bin/crun', remote: false,
    });
    expect(readInfo('/usr/bin/podman', info({ serviceIsRemote: true })).remote).toBe(true);
    expect(() => readInfo('/usr/bin/podman', 'Error: no')).toThrow(/did not print JSON/);
  });

  test.each<[string, Record<string, string>, { remote: boolean } | undefined, RegExp | undefined]>([
    ['/usr/bin/podman', {}, undefined, undefined],
    ['/usr/bin/podman', {}, { remote: false }, undefined],
    ['/usr/bin/podman', { CONTAINER_HOST: 'ssh://core@127.0.0.1:2222/run/podman/podman.sock' }, undefined, /CONTAINER_HOST is set; in remote mode podman packs the secret files into the build context/],
    ['/usr/bin/podman', { CONTAINER_CONNECTION: 'machine' }, undefined, /CONTAINER_CONNECTION is set/],
    ['/usr/bin/podman-remote', {}, undefined, /is podman-remote/],
    ['/usr/bin/podman', {}, { remote: true }, /is in remote mode and talks to a remote service \(set by \[engine\] remote = true in a containers.conf.*a podman machine or a default system connection/],
  ])('%s %j %j', (bin, env, facts, message) => {
    if (message) expect(() => refuseRemote(bin, env, facts)).toThrow(message);
    else expect(() => refuseRemote(bin, env, facts)).not.toThrow();
  });
});

describe('a podman child in the run directory', () => {
  test('each child gets its own 0700 TMPDIR; the reaper is written once, 0600; --dry-run prints the TMPDIR', () => {
    const run = join(dir, 'run');
    mkdirSync(run, { mode: 0o700 });
    const engine = podmanEngine('/usr/bin/podman');
    const env = scrubEnv({ PATH: '/usr/bin', HOME: '/root', TOKEN: 'x' }, new Set(['TOKEN']));
    const a = engine.startBuild(env, run);
    const b = engine.startBuild(env, run);
    expect([a.env.TMPDIR, b.env.TMPDIR]).toEqual([join(run, 'tmp-1'), join(run, 'tmp-2')]);
    expect(a.env.TOKEN).toBeUndefined();
    expect(statSync(join(run, 'tmp-1')).mode & 0o777).toBe(0o700);
    expect(statSync(join(run, 'reap')).mode & 0o777).toBe(0o600);
    expect(engine.dryRunPrefix(run, 2)).toBe(`TMPDIR=${run}/tmp-2 `);
  });

  test('the reaper deletes each bundle\'s runc container and removes its working container (stand-in binaries record argv only)', () => {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const log = join(dir, 'argv.log');
    for (const name of ['runc', 'podman']) {
      writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\n`);
      chmodSync(join(bin, name), 0o755);
    }
    const tmp = join(dir, 'tmp-1');
    const cid = 'd0502d2457c2acb4886aeaa2dea4def810fb535984c2b7fc3124194e5e0f9c7a';
    mkdirSync(join(tmp, 'buildah1331683107', 'run'), { recursive: true });
    writeFileSync(join(tmp, 'buildah1331683107', 'run', '.containerenv'), `engine="buildah-1.28.2"\nname="busybox-working-container"\nid="${cid}"\nimage="x"\n`);
    mkdirSync(join(tmp, 'buildah42'));
    mkdirSync(join(tmp, 'other'));
    const script = join(dir, 'reap');
    writeFileSync(script, reapScript({ podman: join(bin, 'podman'), runtime: join(bin, 'runc'), env: scrubEnv({ HOME: "/home/o'brien" }, new Set()) }));
    execFileSync('/bin/sh', [script, tmp, join(dir, 'tmp-none')]);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'runc delete --force buildah-buildah1331683107',
      `podman rm --force ${cid}`,
      'runc delete --force buildah-buildah42',
    ]);
    expect(() => statSync(join(tmp, 'buildah1331683107'))).toThrow();
    expect(statSync(join(tmp, 'other')).isDirectory()).toBe(true);
    expect(readFileSync(script, 'utf8')).toContain(`export HOME='/home/o'\\''brien'`);
  });
});

describe('podman with ssh agents', () => {
  const engine = podmanEngine('/usr/bin/podman');
  test('the agents reach podman build as --ssh ID=SOCKET', () => {
    expect(engine.buildArgv([], ['-t', 'x', '.'], ['default=/dev/shm/r/secbuild-1-abcdef/ssh-agent-1.sock'])).toEqual(['build', '--ssh', 'default=/dev/shm/r/secbuild-1-abcdef/ssh-agent-1.sock', '-t', 'x', '.']);
  });
  test.each([
    ['fits', `/dev/shm/${'a'.repeat(20)}/secbuild-1-abcdef`, false],
    ['too deep for buildah\'s socket under TMPDIR', `/dev/shm/${'a'.repeat(40)}/secbuild-1-abcdef`, true],
  ])('a run directory that %s', (_, dir, throws) => {
    const run = () => engine.buildArgv([], ['.'], [`default=${dir}/ssh-agent-1.sock`]);
    if (throws) expect(run).toThrow(/too deep for a unix socket path \(107 bytes\); choose a shorter secret root with --tmpdir/);
    else expect(run).not.toThrow();
  });
});
