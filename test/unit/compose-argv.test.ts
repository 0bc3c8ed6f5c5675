import { parse, parseDocument } from 'yaml';
import { describe, expect, test } from 'vitest';
import { parseComposeArgs, type ComposeArgs } from '../../src/args/compose.js';
import { composeArgv, composeOverride, directBuildArgv, flowText, serviceFiles, serviceSsh, Tagged } from '../../src/engines/compose/argv.js';
import { supportsOverrideTag } from '../../src/engines/compose/detect.js';
import { overrideId } from '../../src/engines/compose/engine-compose.js';
import { schedule } from '../../src/engines/compose/engine-direct.js';
import type { ServiceBuild } from '../../src/engines/compose/plan.js';
import { UsageError } from '../../src/util/errors.js';

describe('parseComposeArgs', () => {
  test.each<[string, string[], Partial<ComposeArgs>]>([
    ['build alone', ['build'], { services: [], files: [], globalArgs: [], buildArgs: [] }],
    ['services', ['build', 'api', 'web'], { services: ['api', 'web'] }],
    ['-f repeated, both forms', ['-f', 'a.yml', '--file=b.yml', '-fc.yml', 'build'], { files: ['a.yml', 'b.yml', 'c.yml'], globalArgs: [] }],
    [
      'global options kept in order for compose',
      ['-p', 'proj', '--project-directory', 'dir', '--env-file', 'ci.env', '--profile', 'debug', '--progress', 'plain', '--compatibility', 'build'],
      { projectName: 'proj', projectDirectory: 'dir', envFiles: ['ci.env'], profiles: ['debug'], progress: 'plain', compatibility: true, globalArgs: ['-p', 'proj', '--project-directory', 'dir', '--env-file', 'ci.env', '--profile', 'debug', '--compatibility'] },
    ],
    // Where --progress goes depends on the Compose version (composeArgv): it is read, never kept in place.
    ['--progress after build is read, not kept', ['build', '--progress=plain', 'web'], { progress: 'plain', buildArgs: [], services: ['web'], directUnsupported: [] }],
    [
      'build options: what the direct engine reads, all kept for compose',
      ['build', '--build-arg', 'A=1', '--build-arg=B', '--no-cache', '--pull', '-q', '--ssh', 'default', '--with-dependencies', 'web'],
      { cliBuildArgs: [['A', '1'], ['B', null]], noCache: true, pull: true, quiet: true, ssh: ['default'], withDependencies: true, services: ['web'], buildArgs: ['--build-arg', 'A=1', '--build-arg', 'B', '--no-cache', '--pull', '-q', '--ssh', 'default', '--with-dependencies'], directUnsupported: [] },
    ],
    ['compose-only build options', ['build', '--push', '--builder', 'x', '--print'], { buildArgs: ['--push', '--builder', 'x', '--print'], directUnsupported: ['--push', '--builder', '--print'] }],
    [
      "secbuild's own options anywhere, never passed on",
      ['--secret', 'id=a,from=env:A', '-f', 'c.yml', 'build', '--netrc=machine=h,login=l,password=env:P', '--dry-run', '--engine', 'direct', '--parallel', '2', '--tmpdir', '/t', '--docker', '/d', '--require-tmpfs', '--config', 's.yml', '--npmrc', 'x', 'api'],
      { secrets: ['id=a,from=env:A'], netrc: ['machine=h,login=l,password=env:P'], npmrc: ['x'], dryRun: true, engine: 'direct', parallel: 2, tmpdir: '/t', docker: '/d', requireTmpfs: true, config: 's.yml', files: ['c.yml'], globalArgs: [], buildArgs: [], services: ['api'] },
    ],
    ['-- before services', ['build', '--', '-odd'], { services: ['-odd'] }],
    ['masking options', ['--no-mask', 'build', '--allow-secret-build-arg', 'A', '--allow-secret-build-arg=B'], { noMask: true, mask: false, allowSecretBuildArg: ['A', 'B'], buildArgs: [] }],
    ['--parallel -1', ['--parallel', '-1', 'build'], { parallel: -1 }],
    ['help', ['--help'], { help: true }],
  ])('%s', (_name, argv, want) => {
    expect(parseComposeArgs(argv)).toMatchObject(want);
  });

  test.each<[string[], RegExp]>([
    [[], /needs a command: secbuild compose \[-f FILE…\] build\|up\|down/],
    [['run'], /runs build, up and down, got "run"/],
    [['--verbose=1', 'build'], /unknown option --verbose before build/],
    [['--unknown', 'build'], /unknown option --unknown before build/],
    [['-f'], /-f needs a value/],
    [['--engine', 'v1', 'build'], /--engine v1: expected compose or direct/],
    [['--parallel', '0', 'build'], /--parallel 0: expected a positive number/],
    [['--config', 'a', '--config', 'b', 'build'], /--config is given twice/],
    [['build', '--no-cache=true'], /--no-cache takes no value/],
    [['--mask', 'build', '--no-mask'], /--mask and --no-mask contradict each other/],
  ])('%j is a UsageError', (argv, message) => {
    expect(() => parseComposeArgs(argv)).toThrow(UsageError);
    expect(() => parseComposeArgs(argv)).toThrow(message);
  });
});

const svc = (over: Partial<ServiceBuild> = {}): ServiceBuild => ({
  service: 'api', files: ['compose.yaml'], context: '/p/api', remote: false, dockerfile: '/p/api/Dockerfile', args: [], labels: [], ssh: [], extraHosts: [], cacheFrom: [],
  grants: [], image: 'proj-api', dependsOn: [], unsupported: [], notes: [], ...over,
});
const opts = { project: 'proj', args: [] as Array<[string, string]>, noCache: false, pull: false, quiet: false, ssh: [] as string[] };

describe('directBuildArgv', () => {
  test.each<[string, Partial<ServiceBuild>, Partial<typeof opts> & { progress?: string }, string[]]>([
    ['the minimum', {}, {}, ['-f', '/p/api/Dockerfile', '--label', 'com.docker.compose.project=proj', '--label', 'com.docker.compose.service=api', '-t', 'proj-api', '/p/api']],
    [
      'every key and option, in a fixed order',
      { target: 't', labels: [['a', '1']], network: 'host', ssh: ['default'], extraHosts: ['db:10.0.0.1'], cacheFrom: ['c:1'] },
      { args: [['A', '1 2']], noCache: true, pull: true, quiet: true, progress: 'plain', ssh: ['k=/k'] },
      [
        '-f', '/p/api/Dockerfile', '--target', 't', '--build-arg', 'A=1 2', '--label', 'a=1', '--label', 'com.docker.compose.project=proj', '--label', 'com.docker.compose.service=api',
        '--network', 'host', '--ssh', 'default', '--ssh', 'k=/k', '--add-host', 'db:10.0.0.1', '--cache-from', 'c:1', '--no-cache', '--pull', '--progress', 'plain', '-q', '-t', 'proj-api', '/p/api',
      ],
    ],
    ['a remote context without dockerfile', { remote: true, context: 'https://x/y.git', dockerfile: undefined }, {}, ['--label', 'com.docker.compose.project=proj', '--label', 'com.docker.compose.service=api', '-t', 'proj-api', 'https://x/y.git']],
  ])('%s', (_name, b, o, want) => {
    expect(directBuildArgv(svc(b), [], { ...opts, ...o })).toEqual(['build', ...want]);
  });

  test('secret files come first, under the id BuildKit sees, shared files once per grant', () => {
    const grants = [{ source: 'netrc', id: 'netrc', at: 'a' }, { source: 'npm', id: 'npmrc', at: 'b' }, { source: 'absent', id: 'absent', at: 'c' }];
    const files = serviceFiles(grants, new Map([['netrc', '/run/00-netrc'], ['npm', '/run/01-npm']]));
    expect(files).toEqual([{ id: 'netrc', path: '/run/00-netrc' }, { id: 'npmrc', path: '/run/01-npm' }]);
    expect(directBuildArgv(svc({ grants }), files, opts).slice(0, 5)).toEqual(['build', '--secret', 'id=netrc,src=/run/00-netrc', '--secret', 'id=npmrc,src=/run/01-npm']);
  });
});

describe('composeArgv', () => {
  test("the user's files, then the override, then build with options and services verbatim", () => {
    expect(composeArgv({ globalArgs: ['-p', 'x', '--profile', 'p'], files: ['/p/compose.yaml', '/p/ci.yaml'], override: '/run/00-compose-override', parallel: 2, buildArgs: ['--no-cache'], services: ['api'] })).toEqual([
      'compose', '-p', 'x', '--profile', 'p', '-f', '/p/compose.yaml', '-f', '/p/ci.yaml', '-f', '/run/00-compose-override', '--parallel', '2', 'build', '--no-cache', 'api',
    ]);
    expect(composeArgv({ globalArgs: [], files: ['/c.yml'], override: '/o', buildArgs: [], services: ['-x'] }).slice(-3)).toEqual(['build', '--', '-x']);
  });

  // Compose 2.19.0 made --progress global (docker/compose#10690); from 2.2x `build --progress` prints
  // "--progress is a global compose flag, better use `docker compose --progress xx build ...`". Before 2.19 only `build` has it.
  test.each<[string | undefined, string[]]>([
    ['2.26.1-4', ['compose', '--progress', 'plain', '-p', 'x', '-f', '/c.yml', '-f', '/o', 'build', '--no-cache', 'api']],
    ['2.19.0', ['compose', '--progress', 'plain', '-p', 'x', '-f', '/c.yml', '-f', '/o', 'build', '--no-cache', 'api']],
    ['3.0.0', ['compose', '--progress', 'plain', '-p', 'x', '-f', '/c.yml', '-f', '/o', 'build', '--no-cache', 'api']],
    ['2.18.1', ['compose', '-p', 'x', '-f', '/c.yml', '-f', '/o', 'build', '--progress', 'plain', '--no-cache', 'api']],
    ['2.10.2', ['compose', '-p', 'x', '-f', '/c.yml', '-f', '/o', 'build', '--progress', 'plain', '--no-cache', 'api']],
    [undefined, ['compose', '-p', 'x', '-f', '/c.yml', '-f', '/o', 'build', '--progress', 'plain', '--no-cache', 'api']],
  ])('Compose %s: --progress where that version reads it without a warning', (version, want) => {
    expect(composeArgv({ globalArgs: ['-p', 'x'], files: ['/c.yml'], override: '/o', buildArgs: ['--no-cache'], services: ['api'], progress: 'plain', version })).toEqual(want);
  });

  test('no --progress when none is asked for', () => {
    expect(composeArgv({ globalArgs: [], files: ['/c.yml'], override: '/o', buildArgs: [], services: [], version: '2.26.1' })).not.toContain('--progress');
  });
});

describe('composeOverride', () => {
  const netrc = { source: 'netrc', id: 'netrc', at: 'a' };
  test('plain JSON when the user files do not define the secrets differently', () => {
    const { text, tagged } = composeOverride({ builds: [svc({ grants: [netrc, { source: 'npm', id: 'npmrc', at: 'b' }] })], pathOf: new Map([['netrc', '/r/00-netrc'], ['npm', '/r/01-npm']]), composeDefs: new Map([['npm', { file: './npm.txt' }]]) });
    expect(tagged).toEqual([]);
    expect(JSON.parse(text)).toEqual({ secrets: { netrc: { file: '/r/00-netrc' }, npm: { file: '/r/01-npm' } } });
  });

  test('!override for a definition with environment/external, and for a build.secrets list that must change', () => {
    const grants = [netrc, { source: 'ext', id: 'ext', at: 'b', droppedTarget: '/root/x' }, { source: 'gone', id: 'gone', at: 'c' }];
    const { text, tagged } = composeOverride({
      builds: [svc({ grants }), svc({ service: 'web', grants: [netrc] })],
      pathOf: new Map([['netrc', '/r/00-netrc'], ['ext', '/r/01-ext']]),
      composeDefs: new Map([['netrc', { environment: 'X' }], ['ext', { external: true }]]),
    });
    expect(tagged).toEqual(['secrets.netrc', 'secrets.ext', 'services.api.build.secrets']);
    const doc = parseDocument(text, { logLevel: 'error' });
    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toEqual({ services: { api: { build: { secrets: ['netrc', 'ext'] } } }, secrets: { netrc: { file: '/r/00-netrc' }, ext: { file: '/r/01-ext' } } });
    expect(text).toContain('"netrc": !override {');
    expect(text).toContain('"secrets": !override [');
  });

  test('flowText: JSON, with a tag where asked', () => {
    expect(flowText({ a: [1, 'x'], b: {}, c: [] })).toBe('{\n  "a": [\n    1,\n    "x"\n  ],\n  "b": {},\n  "c": []\n}');
    expect(parse(flowText({ k: new Tagged('!override', { file: '/x' }) }), { logLevel: 'error' })).toEqual({ k: { file: '/x' } });
  });

  test('overrideId avoids a secret id; supportsOverrideTag', () => {
    expect(overrideId(['a'])).toBe('compose-override');
    expect(overrideId(['compose-override'])).toBe('compose-override_');
    expect([undefined, '2.24.3', '2.24.4', '2.25.0', '2.29.1-desktop.1', '3.0.0'].map(supportsOverrideTag)).toEqual([false, false, true, true, true, true]);
  });
});

describe('schedule: depends_on order, parallelism, stop at the first failure', () => {
  const b = (service: string, dependsOn: string[] = []) => svc({ service, dependsOn });
  const run = (codes: Record<string, number>, log: string[], delay = 5) => async (x: ServiceBuild) => {
    log.push(`start ${x.service}`);
    await new Promise((r) => setTimeout(r, delay));
    log.push(`end ${x.service}`);
    return codes[x.service] ?? 0;
  };

  test('one at a time, in order', async () => {
    const log: string[] = [];
    const r = await schedule([b('a'), b('b'), b('c')], 1, run({}, log));
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(r).toEqual({ done: [{ service: 'a', code: 0 }, { service: 'b', code: 0 }, { service: 'c', code: 0 }], notBuilt: [] });
  });

  test('a failure stops the rest', async () => {
    const log: string[] = [];
    const r = await schedule([b('a'), b('b'), b('c')], 1, run({ b: 3 }, log));
    expect(r).toEqual({ done: [{ service: 'a', code: 0 }, { service: 'b', code: 3 }], notBuilt: ['c'] });
  });

  test('parallel: independent services together, a dependent one after its dependency', async () => {
    const log: string[] = [];
    await schedule([b('base'), b('other'), b('app', ['base'])], 2, run({}, log));
    expect(log.slice(0, 2)).toEqual(['start base', 'start other']);
    expect(log.indexOf('start app')).toBeGreaterThan(log.indexOf('end base'));
  });

  test('parallel: running builds finish after a failure; a throw is rethrown after them', async () => {
    const log: string[] = [];
    const r = await schedule([b('a'), b('b'), b('c')], 2, async (x) => (x.service === 'a' ? 1 : run({}, log, 20)(x)));
    expect(r.done.map((d) => d.service).sort()).toEqual(['a', 'b']);
    expect(log).toEqual(['start b', 'end b']);
    expect(r.notBuilt).toEqual(['c']);
    const slow: string[] = [];
    await expect(schedule([b('x'), b('y')], -1, async (s) => {
      if (s.service === 'x') throw new Error('boom');
      return run({}, slow, 20)(s);
    })).rejects.toThrow('boom');
    expect(slow).toEqual(['start y', 'end y']);
  });
});

describe("build.ssh entries naming secbuild's ssh ids (--ssh-key, secbuild.yml ssh:)", () => {
  const sockets = new Map([['default', '/r/ssh-agent-0.sock'], ['gl', '/r/ssh-agent-1.sock']]);
  test.each<[string[], string[]]>([
    [['default'], ['default=/r/ssh-agent-0.sock']],
    [['gl', 'other'], ['gl=/r/ssh-agent-1.sock', 'other']],
    [['default=/home/me/agent.sock'], ['default=/home/me/agent.sock']],
    [[], []],
  ])('%j → %j', (entries, want) => {
    expect(serviceSsh(entries, sockets)).toEqual(want);
  });

  test('direct engine: the service gets --ssh ID=SOCKET; compose engine: its build.ssh is replaced (!override)', () => {
    const b = svc({ ssh: ['default', 'mine=/x.sock'] });
    const argv = directBuildArgv(b, [], { ...opts, sockets });
    expect(argv.join(' ')).toContain('--ssh default=/r/ssh-agent-0.sock --ssh mine=/x.sock');
    const { text, tagged } = composeOverride({ builds: [b, svc({ service: 'web' })], pathOf: new Map(), composeDefs: new Map(), sockets });
    expect(tagged).toEqual(['services.api.build.ssh']);
    expect(text).toContain('"ssh": !override [');
    expect(parse(text.replace(/!override /g, ''))).toMatchObject({ services: { api: { build: { ssh: ['default=/r/ssh-agent-0.sock', 'mine=/x.sock'] } } } });
    expect(composeOverride({ builds: [svc({ ssh: ['mine=/x.sock'] })], pathOf: new Map(), composeDefs: new Map(), sockets }).tagged).toEqual([]);
  });
});
