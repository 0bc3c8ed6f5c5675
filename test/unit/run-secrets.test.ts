/**
 * `secbuild run`'s pure parts: the command line (src/args/run.ts), the docker
 * run argv and the reaper script (src/engines/docker/run-argv.ts), and the
 * refusal of a daemon on another machine (src/engines/docker/local.ts). The
 * real docker: test/e2e/run-secrets.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { parseRunArgs } from '../../src/args/run.js';
import { requireLocalDaemon } from '../../src/engines/docker/local.js';
import { fileMount, runArgv, stopArgv, stopScript } from '../../src/engines/docker/run-argv.js';
import { scrubEnv } from '../../src/run/env.js';

describe('parseRunArgs', () => {
  test.each<[string, string[], Partial<ReturnType<typeof parseRunArgs>>]>([
    ['own options, docker flags verbatim, the image, the command', ['--secret', 'id=db,from=env:DB', '--rm', '-p', '80:80', '-e', 'A=1', 'app:1', 'sh', '-c', 'x'],
      { secrets: ['id=db,from=env:DB'], rm: true, detach: false, dockerArgs: ['--rm', '-p', '80:80', '-e', 'A=1'], image: 'app:1', command: ['sh', '-c', 'x'] }],
    ['-h is docker run\'s --hostname, not help', ['-h', 'box', 'app'], { help: false, dockerArgs: ['-h', 'box'], image: 'app' }],
    ['-d, and -dit bundles', ['-dit', 'app'], { detach: true, dockerArgs: ['-dit'] }],
    ['--detach=false is foreground', ['--detach=false', 'app'], { detach: false }],
    ['--name=x and -p80:80 stay one word', ['--name=x', '-p80:80', 'app'], { dockerArgs: ['--name=x', '-p80:80'], image: 'app' }],
    ['the command\'s own flags are its own', ['app', '--secret', 'x', '--rm'], { secrets: [], rm: false, image: 'app', command: ['--secret', 'x', '--rm'] }],
    ['-- before the image', ['--rm', '--', 'app', 'x'], { image: 'app', command: ['x'] }],
    ['--help needs no image', ['--help'], { help: true }],
  ])('%s', (_name, argv, want) => {
    expect(parseRunArgs(argv)).toMatchObject(want);
  });

  test.each<[string, string[], RegExp]>([
    ['no image', ['--rm'], /needs an image: secbuild run \[options\] IMAGE/],
    ['--cidfile is secbuild\'s', ['--cidfile', '/tmp/c', 'app'], /--cidfile: secbuild run writes its own/],
    ['a value letter inside a bundle', ['-dp', '80:80', 'app'], /-dp: -p takes a value; write it on its own/],
    ['--mask with --no-mask', ['--mask', '--no-mask', 'app'], /contradict/],
  ])('refuses %s', (_name, argv, message) => {
    expect(() => parseRunArgs(argv)).toThrow(message);
  });
});

describe('runArgv', () => {
  test('each secret a read-only bind mount at /run/secrets/ID, before the user\'s flags; the cidfile first', () => {
    expect(runArgv({ files: [{ id: 'db', path: '/r/00-db' }, { id: 'api.key', path: '/r/01-api.key' }], cidfile: '/r/cid', dockerArgs: ['--rm'], image: 'app', command: ['x'] })).toEqual([
      'run', '--cidfile', '/r/cid',
      '--mount', 'type=bind,src=/r/00-db,dst=/run/secrets/db,readonly',
      '--mount', 'type=bind,src=/r/01-api.key,dst=/run/secrets/api.key,readonly',
      '--rm', 'app', 'x',
    ]);
  });

  test.each(['/t,x/00-db', '/t"x/00-db', '/t\nx/00-db'])('refuses a path docker\'s --mount cannot carry: %j', (path) => {
    expect(() => fileMount(path, '/run/secrets/db')).toThrow(/cannot take; choose a secret root without one \(--tmpdir\)/);
  });

  test('stopArgv: docker stop with secbuild\'s grace', () => {
    expect(stopArgv(['c1'])).toEqual(['stop', '--time', '5', 'c1']);
  });
});

describe('stopScript (the watchdog\'s reaper)', () => {
  const env = scrubEnv({ PATH: '/bin', DOCKER_HOST: 'unix:///x y.sock', SECRET: 'v' }, new Set());
  test('a container: the id from the cidfile, docker\'s variables exported, nothing else of the environment', () => {
    const s = stopScript({ docker: '/usr/bin/docker', env, cidfile: '/r/cid' });
    expect(s).toContain("export DOCKER_HOST='unix:///x y.sock'");
    expect(s).toContain('c=$(cat /r/cid 2>/dev/null) && [ -n "$c" ] && /usr/bin/docker stop --time 5 "$c"');
    expect(s).not.toContain('SECRET');
  });
  test('a compose project: its running containers by label', () => {
    expect(stopScript({ docker: 'docker', env, project: 'p 1' })).toContain("docker ps -q --filter 'label=com.docker.compose.project=p 1'");
  });
});

describe('requireLocalDaemon', () => {
  const read = (env: NodeJS.ProcessEnv, flags = {}) => () => requireLocalDaemon({ HOME: '/nonexistent', ...env }, flags, 'secbuild run');
  test.each<[string, NodeJS.ProcessEnv, object]>([
    ['the default socket', {}, {}],
    ['DOCKER_HOST unix://', { DOCKER_HOST: 'unix:///tmp/d.sock' }, {}],
    ['-H unix://', {}, { host: 'unix:///tmp/d.sock' }],
  ])('lets %s through', (_n, env, flags) => {
    expect(read(env, flags)).not.toThrow();
  });
  test.each<[string, NodeJS.ProcessEnv, object, RegExp]>([
    ['DOCKER_HOST ssh://', { DOCKER_HOST: 'ssh://me@far' }, {}, /the daemon at ssh:\/\/me@far \(DOCKER_HOST\) cannot see/],
    ['DOCKER_HOST tcp://', { DOCKER_HOST: 'tcp://10.0.0.5:2375' }, {}, /tcp:\/\/10\.0\.0\.5:2375 \(DOCKER_HOST\)/],
    ['-H tcp:// over a local DOCKER_HOST', { DOCKER_HOST: 'unix:///x' }, { host: 'tcp://h:2376' }, /tcp:\/\/h:2376 \(-H\)/],
  ])('refuses %s in one line naming the alternative', (_n, env, flags, message) => {
    expect(read(env, flags)).toThrow(message);
    expect(read(env, flags)).toThrow(/run secbuild on the daemon's machine, or use a Swarm secret there/);
  });
});
