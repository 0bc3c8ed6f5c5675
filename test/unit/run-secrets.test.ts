/**
 * `secbuild run`'s pure parts: the command line (src/args/run.ts), the docker
 * run argv and the reaper script (src/engines/docker/run-argv.ts), and the
 * refusal of a daemon on another machine (src/engines/docker/local.ts). The
 * real docker: test/e2e/run-secrets.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readRecordedFiles } from '../../src/pipeline/docker-run.js';
import { describe, expect, test } from 'vitest';
import { tree } from '../helpers/cli.js';
import { parseRunArgs } from '../../src/args/run.js';
import { requireLocalDaemon } from '../../src/engines/docker/local.js';
import { fileMount, runArgv, stopArgv, stopScript } from '../../src/engines/docker/run-argv.js';
import { scrubEnv } from '../../src/run/env.js';
import { parseComposeArgs } from '../../src/args/compose.js';
import { composeRunArgv, runtimeOverride } from '../../src/engines/compose/argv.js';
import type { Project } from '../../src/engines/compose/files.js';
import { checkRuntimeVariables, envFilesOf, runSecrets, serviceConfigValues, servicesMounting } from '../../src/engines/compose/run-secrets.js';
import { modeOf } from '../../src/secrets/ownership.js';
import { guardBuildArgs, parseContainerConfigFlags } from '../../src/guards/build-args.js';
import { Secret } from '../../src/secrets/secret.js';
import { LeakError, UsageError } from '../../src/util/errors.js';
import { parseSecretFlag } from '../../src/secrets/spec.js';
import type { SecretSpec } from '../../src/secrets/spec.js';

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
  test('a compose project: its running containers that carry this run\'s label, by label', () => {
    expect(stopScript({ docker: 'docker', env, project: 'p 1', run: 'secbuild-1-abcdef' })).toContain("docker ps -q --filter 'label=com.docker.compose.project=p 1' --filter label=secbuild.run=secbuild-1-abcdef 2>/dev/null)");
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

describe('requireLocalDaemon: Docker Desktop (a VM that cannot see this machine\'s tmpfs)', () => {
  // A docker config dir as Docker Desktop leaves it: currentContext and the context's meta.json under sha256(name).
  const desktop = (name: string, host: string) => {
    const t = tree({
      'config.json': JSON.stringify({ currentContext: name }),
      [`contexts/meta/${createHash('sha256').update(name).digest('hex')}/meta.json`]: JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }),
    });
    return t;
  };
  test.each<[string, string, string]>([
    ['the desktop-linux context', 'desktop-linux', 'unix:///home/me/.docker/desktop/docker.sock'],
    ['a context whose socket is Desktop\'s on macOS', 'mine', 'unix:///Users/me/.docker/run/docker.sock'],
  ])('refuses %s in one line naming the alternative', (_n, name, host) => {
    const t = desktop(name, host);
    try {
      const run = () => requireLocalDaemon({ HOME: '/nonexistent', DOCKER_CONFIG: t.dir }, {}, 'secbuild run');
      expect(run).toThrow(/secbuild run mounts secrets from a tmpfs file on this machine, which Docker Desktop's daemon .* cannot see \(it runs in a VM\); use Docker Engine on this machine \(docker context use default\)/);
    } finally {
      t.cleanup();
    }
  });
  test('DOCKER_HOST into ~/.docker/desktop/ is Desktop too; another local context is let through', () => {
    expect(() => requireLocalDaemon({ HOME: '/nonexistent', DOCKER_HOST: 'unix:///home/me/.docker/desktop/docker.sock' }, {}, 'secbuild run')).toThrow(/Docker Desktop's daemon/);
    const t = desktop('rootless', 'unix:///run/user/1000/docker.sock');
    try {
      expect(() => requireLocalDaemon({ HOME: '/nonexistent', DOCKER_CONFIG: t.dir }, {}, 'secbuild run')).not.toThrow();
    } finally {
      t.cleanup();
    }
  });
});

describe('the container config guard: run\'s --env/--env-file/--label and a service\'s environment/labels (the build-arg guard)', () => {
  const pw = 'hunter2-Sup3r-s3cret';
  const secrets = [new Secret('db', 'env:DB_PASSWORD', Buffer.from(pw))];
  const files: Record<string, string> = { 'app.env': `# comment\nA=1\nPW=${pw}\n`, 'clean.env': 'A=1\nB\n', 'labels.txt': `k=${Buffer.from(pw).toString('base64')}\n` };
  const read = (path: string) => files[path];
  const guardRun = (argv: string[], env: NodeJS.ProcessEnv = {}) => () =>
    guardBuildArgs(parseContainerConfigFlags(parseRunArgs([...argv, 'app']).recorded, env, read), secrets, new Set(), false);
  test.each<[string, string[], NodeJS.ProcessEnv, RegExp]>([
    ['-e VAR=VALUE', ['-e', `PW=${pw}`], {}, /^--env PW carries secret "db"/],
    ['--env=VAR=VALUE', [`--env=PW=x${pw}x`], {}, /^--env PW carries secret "db"/],
    ['-eVAR=VALUE', [`-ePW=${pw}`], {}, /^--env PW carries secret "db"/],
    ['a bare -e VAR whose variable holds the secret', ['-e', 'DB_PASSWORD'], { DB_PASSWORD: pw }, /^--env DB_PASSWORD carries secret "db"/],
    ['--env-file FILE with a line that carries it', ['--env-file', 'app.env'], {}, /^--env-file app\.env: PW carries secret "db"/],
    ['--label K=V (a form: base64)', ['--label', `k=${Buffer.from(pw).toString('base64')}`], {}, /^--label k carries secret "db"/],
    ['-l K=V', ['-l', `k=${pw}`], {}, /^--label k carries secret "db"/],
    ['--label-file FILE', ['--label-file', 'labels.txt'], {}, /^--label-file labels\.txt: k carries secret "db"/],
    ['--annotation K=V (kept in the container\'s config)', ['--annotation', `k=${pw}`], {}, /^--annotation k carries secret "db"/],
  ])('refuses %s (exit 4), pointing at --secret and /run/secrets', (_n, argv, env, message) => {
    const run = guardRun(argv, env);
    expect(run).toThrow(LeakError);
    expect(run).toThrow(message);
    expect(run).toThrow(/docker inspect.*--secret id=db,from=env:DB_PASSWORD.*\/run\/secrets\/db/);
    expect(run).not.toThrow(new RegExp(pw));
  });
  test.each<[string, string[]]>([
    ['values that carry nothing', ['-e', 'A=1', '--label', 'k=v', '--env-file', 'clean.env', '-e', 'UNSET']],
    ['an unreadable --env-file (docker reports it)', ['--env-file', 'missing.env']],
  ])('lets %s through', (_n, argv) => {
    expect(guardRun(argv)).not.toThrow();
  });
  test('compose: a service\'s literal environment: (map and list), labels: and annotations: value that carries a secret is refused; other services are not read', () => {
    const model = { services: {
      web: { environment: { PW: `pre-${pw}`, OK: 'x', NULL: null }, labels: [`k=${pw}`], annotations: { 'org.example.a': pw } },
      api: { environment: [`PW=${pw}`, 'FROM_ENV'] },
      other: { environment: { PW: pw } },
    } };
    const p: Project = { name: 'p', dir: '/p', files: [], shownFiles: [], filesFrom: 'test', model, env: { FROM_ENV: pw }, serviceFiles: new Map(), usedVars: new Map() };
    const run = (services: string[]) => () => guardBuildArgs(serviceConfigValues(p, services), secrets, new Set(), false);
    expect(run(['web'])).toThrow(LeakError);
    expect(run(['web'])).toThrow(/^services\.web\.environment\.PW carries secret "db".*docker inspect.*services\.S\.secrets.*\/run\/secrets\/db/);
    expect(run(['web'])).toThrow(/\nservices\.web\.labels\.k carries secret "db"/);
    expect(run(['web'])).toThrow(/\nservices\.web\.annotations\.org\.example\.a carries secret "db"/);
    expect(run(['api'])).toThrow(/services\.api\.environment\.PW carries.*\nservices\.api\.environment\.FROM_ENV carries/s);
    expect(() => guardBuildArgs(serviceConfigValues({ ...p, model: { services: { web: { environment: { OK: 'x' }, labels: { k: 'v' } } } } }, ['web']), secrets, new Set(), false)).not.toThrow();
  });
});

describe('--secret uid=, gid=, mode= (secbuild run only)', () => {
  test.each<[string, object]>([
    ['id=db,from=env:DB,uid=1000,mode=0400', { uid: 1000, mode: 0o400 }],
    ['id=db,from=env:DB,uid=1000,gid=1001,mode=440', { uid: 1000, gid: 1001, mode: 0o440 }],
    ['id=db,src=./pw,gid=0', { gid: 0 }],
  ])('%s: the owner and mode its file gets', (value, owner) => {
    expect(parseSecretFlag(value, {}, '/w', undefined, { ownership: true }).owner).toEqual(owner);
  });
  test('without any: no owner (the file stays the invoking user\'s, 0600)', () => {
    expect(parseSecretFlag('id=db,from=env:DB', {}, '/w', undefined, { ownership: true }).owner).toBeUndefined();
  });
  test.each<[string, RegExp]>([
    ['id=db,from=env:DB,uid=me', /--secret id=db uid=: expected a numeric id such as "1000"/],
    ['id=db,from=env:DB,mode=rw', /--secret id=db mode=: expected a file mode such as 0400/],
  ])('refuses %s', (value, message) => {
    expect(() => parseSecretFlag(value, {}, '/w', undefined, { ownership: true })).toThrow(message);
  });
  test('other commands refuse them, naming where each is set instead', () => {
    const run = () => parseSecretFlag('id=db,from=env:DB,uid=1000', {}, '/w');
    expect(run).toThrow(UsageError);
    expect(run).toThrow(/--secret id=db: uid=, gid= and mode= are for secbuild run .*RUN --mount=type=secret,id=db,uid=1000,mode=0400.*long syntax/);
  });
  test('parseRunArgs allows them (and only run does)', () => {
    expect(parseRunArgs(['app']).secretOwnership).toBe(true);
  });
});

describe('readRecordedFiles: run\'s --env-file/--label-file as the guard reads them', () => {
  test('a regular file is read; a missing one is left to docker; a FIFO is refused without being opened (its data is docker\'s); over 1 MiB is refused', async () => {
    const t = tree({ 'app.env': 'A=1\n', 'big.env': Buffer.alloc(1024 * 1024 + 1, 0x41) });
    try {
      const fifo = join(t.dir, 'env.fifo');
      expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
      const texts = await readRecordedFiles([{ flag: '--env-file', value: join(t.dir, 'app.env') }, { flag: '--env', value: 'B=2' }, { flag: '--label-file', value: join(t.dir, 'missing') }]);
      expect([...texts.values()]).toEqual(['A=1\n']);
      await expect(readRecordedFiles([{ flag: '--env-file', value: fifo }])).rejects.toThrow(/--env-file .*env\.fifo is not a regular file/);
      await expect(readRecordedFiles([{ flag: '--label-file', value: join(t.dir, 'big.env') }])).rejects.toThrow(/--label-file .*big\.env is larger than 1 MiB/);
    } finally {
      t.cleanup();
    }
  });
});

describe('compose: a service\'s env_file: goes through the same guard', () => {
  const pw = 'hunter2-Sup3r-s3cret';
  const secrets = [new Secret('db', 'env:DB_PASSWORD', Buffer.from(pw))];
  test('each entry (string, list, { path }) relative to the project directory; export and quotes as dotenv writes them', () => {
    expect(envFilesOf({ env_file: 'a.env' })).toEqual(['a.env']);
    expect(envFilesOf({ env_file: ['a.env', { path: 'b.env', required: false }] })).toEqual(['a.env', 'b.env']);
    const model = { services: { web: { env_file: ['./a.env', 'clean.env'] } } };
    const p: Project = { name: 'p', dir: '/p', files: [], shownFiles: [], filesFrom: 'test', model, env: {}, serviceFiles: new Map(), usedVars: new Map() };
    const texts = new Map([['/p/a.env', `# c\nexport PW="${pw}"\nX=1\n`], ['/p/clean.env', 'A=1\n']]);
    const run = () => guardBuildArgs(serviceConfigValues(p, ['web'], texts), secrets, new Set(), false);
    expect(run).toThrow(LeakError);
    expect(run).toThrow(/^services\.web\.env_file\[0\]\.PW carries secret "db".*docker inspect/);
    expect(() => guardBuildArgs(serviceConfigValues(p, ['web'], new Map([['/p/a.env', 'X=1\n']])), secrets, new Set(), false)).not.toThrow();
  });
});

describe('compose up/down: the command line', () => {
  test.each<[string, string[], Partial<ReturnType<typeof parseComposeArgs>>]>([
    ['up with its options and services, own options anywhere', ['-f', 'c.yaml', 'up', '--secret', 'id=db,from=env:DB', '--scale', 'web=2', '--abort-on-container-exit', 'web'],
      { command: 'up', files: ['c.yaml'], secrets: ['id=db,from=env:DB'], runArgs: ['--scale', 'web=2', '--abort-on-container-exit'], services: ['web'], detach: false }],
    ['up -d', ['up', '-d'], { command: 'up', detach: true, runArgs: ['-d'] }],
    ['up --wait implies -d', ['up', '--wait'], { detach: true }],
    ['up -t 3 keeps its value', ['up', '-t', '3', 'db'], { runArgs: ['-t', '3'], services: ['db'] }],
    ['down -v --rmi all', ['-p', 'x', 'down', '-v', '--rmi', 'all'], { command: 'down', projectName: 'x', runArgs: ['-v', '--rmi', 'all'], detach: false }],
    ['build stays build', ['build', 'api'], { command: 'build', services: ['api'] }],
  ])('%s', (_n, argv, want) => {
    expect(parseComposeArgs(argv)).toMatchObject(want);
  });
});

describe('compose up: the override and argv (paths, never values)', () => {
  test('a secret the compose file defines from environment: is replaced (!override); one it does not define is added', () => {
    const { text, tagged } = runtimeOverride(new Map([['db', '/r/00-db'], ['api', '/r/01-api']]), new Map([['db', { environment: 'DB_PASSWORD' }]]));
    expect(tagged).toEqual(['secrets.db']);
    expect(text).toBe('{\n  "secrets": {\n    "db": !override {\n      "file": "/r/00-db"\n    },\n    "api": {\n      "file": "/r/01-api"\n    }\n  }\n}\n');
  });
  test('each service that mounts a provided secret (a dependency too) gets the run directory\'s name as its secbuild.run label', () => {
    const p: Project = {
      name: 'p', dir: '/p', files: ['/p/compose.yaml'], shownFiles: ['compose.yaml'], filesFrom: 'test', env: {}, serviceFiles: new Map(), usedVars: new Map(),
      model: { services: { web: { secrets: ['db'] }, dep: { secrets: [{ source: 'db', target: '/x' }] }, other: { secrets: ['own'] }, plain: {} } },
    };
    const services = servicesMounting(p, new Set(['db']));
    expect(services).toEqual(['web', 'dep']);
    const { text } = runtimeOverride(new Map([['db', '/r/secbuild-1-abcdef/00-db']]), new Map(), { services, run: 'secbuild-1-abcdef' });
    expect(text).toBe('{\n  "services": {\n    "web": {\n      "labels": {\n        "secbuild.run": "secbuild-1-abcdef"\n      }\n    },\n    "dep": {\n      "labels": {\n        "secbuild.run": "secbuild-1-abcdef"\n      }\n    }\n  },\n  "secrets": {\n    "db": {\n      "file": "/r/secbuild-1-abcdef/00-db"\n    }\n  }\n}\n');
  });
  test('composeRunArgv: the user\'s files, then the override, then the command', () => {
    expect(composeRunArgv({ globalArgs: ['-p', 'x'], files: ['/p/c.yaml'], override: '/r/o', command: 'up', args: ['-d'], services: ['web'] })).toEqual(['compose', '-p', 'x', '-f', '/p/c.yaml', '-f', '/r/o', 'up', '-d', 'web']);
    expect(composeRunArgv({ globalArgs: [], files: ['/p/c.yaml'], command: 'down', args: [], services: [] })).toEqual(['compose', '-f', '/p/c.yaml', 'down']);
  });
});

describe('runSecrets: which secrets, from where, with which owner and mode', () => {
  const project = (model: Record<string, unknown>): Project => ({
    name: 'p', dir: '/p', files: ['/p/compose.yaml'], shownFiles: ['compose.yaml'], filesFrom: 'test', model, env: {}, serviceFiles: new Map(), usedVars: new Map(),
  });
  const own: SecretSpec[] = [];
  test('short and long syntax; environment: and file: sources read by secbuild; Compose\'s defaults and the long syntax\'s owner and mode', () => {
    const r = runSecrets(project({
      services: { web: { secrets: ['db', { source: 'key', target: '/etc/key', uid: '1000', gid: 1000, mode: 400 }] }, other: { secrets: ['unused'] } },
      secrets: { db: { environment: 'DB_PASSWORD' }, key: { file: './key.txt' } },
    }), ['web'], own);
    expect(r.specs.map((s) => [s.id, s.kind === 'ref' ? s.ref.scheme : s.kind])).toEqual([['db', 'env'], ['key', 'file']]);
    expect(r.ownership.get('db')).toEqual({ uid: 0, gid: 0, mode: 0o444 });
    expect(r.ownership.get('key')).toEqual({ uid: 1000, gid: 1000, mode: 0o400 });
  });
  test.each<[unknown, number]>([[400, 0o400], [440, 0o440], ['0400', 0o400], ['0o440', 0o440], [288, 288]])('mode %j is %o', (mode, want) => {
    expect(modeOf(mode, 'at')).toBe(want);
  });
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a secret no one defines', { services: { web: { secrets: ['nope'] } } }, /names secret "nope", which neither secbuild .* define it with --secret id=nope,from=REF/],
    ['external: true (Swarm\'s)', { services: { web: { secrets: ['x'] } }, secrets: { x: { external: true } } }, /needs exactly one of file: or environment: .*external: true is Swarm's/],
    ['one secret asked for with two owners', { services: { web: { secrets: [{ source: 'db', uid: '1' }] }, api: { secrets: [{ source: 'db', uid: '2' }] } }, secrets: { db: { environment: 'X' } } }, /one file cannot have both/],
    ['a mode that is none', { services: { web: { secrets: [{ source: 'db', mode: 'rw' }] } }, secrets: { db: { environment: 'X' } } }, /mode: expected a file mode such as 0400/],
  ])('refuses %s', (_n, model, message) => {
    expect(() => runSecrets(project(model), Object.keys(model.services as object), own)).toThrow(message);
  });
  test('a service value interpolated from a secret\'s variable is refused (it would be in docker inspect)', () => {
    const p = { ...project({}), usedVars: new Map([['services.web.environment.PW', { file: 'compose.yaml', vars: ['DB_PASSWORD'] }]]) };
    expect(() => checkRuntimeVariables(p, ['web'], new Set(['DB_PASSWORD']))).toThrow(/services\.web\.environment\.PW is interpolated from \$DB_PASSWORD.*docker inspect/);
    expect(() => checkRuntimeVariables(p, ['other'], new Set(['DB_PASSWORD']))).not.toThrow();
  });
});
