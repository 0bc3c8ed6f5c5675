import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Project } from '../../src/engines/compose/files.js';
import { effectiveArgs, selectBuilds, type ServiceBuild } from '../../src/engines/compose/plan.js';
import { preflightServices } from '../../src/pipeline/compose-preflight.js';
import type { Builder } from '../../src/check/mount-env.js';
import { checkSecretVariables, composeSecrets } from '../../src/engines/compose/secrets.js';
import { UsageError } from '../../src/util/errors.js';
import type { SecretSpec } from '../../src/secrets/spec.js';

function project(model: Record<string, unknown>, extra: Partial<Project> = {}): Project {
  const services = (model.services ?? {}) as Record<string, unknown>;
  return {
    name: 'proj', dir: '/p', files: ['/p/compose.yaml'], shownFiles: ['compose.yaml'], filesFrom: '-f', model, env: {},
    serviceFiles: new Map(Object.keys(services).map((s) => [s, ['compose.yaml']])), usedVars: new Map(), ...extra,
  };
}
const select = (model: Record<string, unknown>, o: Partial<Parameters<typeof selectBuilds>[1]> = {}) =>
  selectBuilds(project(model), { services: [], profiles: [], withDependencies: false, separator: '-', ...o });
const only = (build: unknown, extra: Record<string, unknown> = {}) => select({ services: { app: { build, ...extra } } }).builds[0]!;

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('readBuild: the build keys', () => {
  test('a context string: defaults as Compose has them', () => {
    expect(only('./app')).toMatchObject<Partial<ServiceBuild>>({
      service: 'app', context: '/p/app', remote: false, dockerfile: '/p/app/Dockerfile', image: 'proj-app', args: [], grants: [], unsupported: [],
    });
  });

  test('every key the direct engine supports', () => {
    const b = only({
      context: 'svc', dockerfile: 'docker/Dockerfile.prod', target: 'prod',
      args: { A: 1, B: null, C: true }, labels: ['team=web', 'empty'], network: 'host',
      ssh: ['default', 'key=./id_ed25519', 'abs=/k'], extra_hosts: ['db=10.0.0.1', 'cache:10.0.0.2'], cache_from: ['proj-app:cache'],
      secrets: ['netrc', { source: 'npm_token', target: 'npm' }],
    }, { image: 'registry/app:1' });
    expect(b).toMatchObject<Partial<ServiceBuild>>({
      context: '/p/svc', dockerfile: '/p/svc/docker/Dockerfile.prod', target: 'prod',
      args: [['A', '1'], ['B', null], ['C', 'true']], labels: [['team', 'web'], ['empty', '']], network: 'host',
      ssh: ['default', 'key=/p/id_ed25519', 'abs=/k'], extraHosts: ['db:10.0.0.1', 'cache:10.0.0.2'], cacheFrom: ['proj-app:cache'],
      grants: [
        { source: 'netrc', id: 'netrc', at: 'services.app.build.secrets[0]' },
        { source: 'npm_token', id: 'npm', at: 'services.app.build.secrets[1]' },
      ],
      image: 'registry/app:1', unsupported: [],
    });
  });

  test('extra_hosts as a mapping, a remote context keeps its Dockerfile path as given', () => {
    expect(only({ context: 'https://github.com/acme/app.git#main', dockerfile: 'Dockerfile.ci', extra_hosts: { db: '10.0.0.1', multi: ['::1', '10.0.0.3'] } })).toMatchObject({
      remote: true, context: 'https://github.com/acme/app.git#main', dockerfile: 'Dockerfile.ci', extraHosts: ['db:10.0.0.1', 'multi:::1', 'multi:10.0.0.3'],
    });
  });

  test('keys outside the supported list are collected for the direct engine, x- keys are not', () => {
    expect(only({ context: '.', platforms: ['linux/arm64'], tags: ['x'], 'x-note': 1 }, { platform: 'linux/amd64' }).unsupported).toEqual([
      'services.app.build.platforms', 'services.app.build.tags', 'services.app.platform',
    ]);
  });

  test('an absolute target is dropped with a note; uid/gid/mode are noted', () => {
    const b = only({ context: '.', secrets: [{ source: 'netrc', target: '/root/.netrc' }, { source: 'x', mode: 0o400 }] });
    expect(b.grants[0]).toEqual({ source: 'netrc', id: 'netrc', at: 'services.app.build.secrets[0]', droppedTarget: '/root/.netrc' });
    expect(b.notes[0]).toMatch(/services.app.build.secrets\[0\].target "\/root\/.netrc" is a path.*secbuild uses id "netrc".*RUN --mount=type=secret,id=netrc,target=\/root\/.netrc/);
    expect(b.notes[1]).toMatch(/uid, gid and mode are ignored by BuildKit/);
  });

  test.each<[string, unknown, Record<string, unknown>, RegExp]>([
    ['build is a number', 5, {}, /compose.yaml: services.app.build: expected a context path or a mapping/],
    ['args is a string', { args: 'A=1' }, {}, /services.app.build.args: expected a list of KEY=VALUE strings or a mapping/],
    ['a secret entry without source', { secrets: [{ target: 'x' }] }, {}, /services.app.build.secrets\[0\]: expected a secret name/],
    ['an unknown secret entry key', { secrets: [{ source: 'a', file: 'x' }] }, {}, /services.app.build.secrets\[0\].file: expected one of source, target, uid, gid, mode/],
    ['extends', '.', { extends: { service: 'base' } }, /services.app.extends is not supported by secbuild/],
  ])('%s', (_name, build, extra, message) => {
    expect(usageError(() => only(build, extra))).toMatch(message);
  });
});

describe('selectBuilds: services, profiles, order', () => {
  const model = {
    services: {
      web: { build: '.', depends_on: ['api'] },
      db: { image: 'postgres' },
      api: { build: '.', depends_on: { db: { condition: 'service_healthy' } } },
      debug: { build: '.', profiles: ['debug'] },
    },
  };
  const names = (r: { builds: ServiceBuild[] }) => r.builds.map((b) => b.service);

  test('all active services with build:, in depends_on order', () => {
    expect(names(select(model))).toEqual(['api', 'web']);
  });
  test('--profile enables a service; * enables all', () => {
    expect(names(select(model, { profiles: ['debug'] }))).toEqual(['api', 'web', 'debug']);
    expect(names(select(model, { profiles: ['*'] }))).toEqual(['api', 'web', 'debug']);
  });
  test('a named service is built whatever its profiles; one without build is reported', () => {
    const r = select(model, { services: ['debug', 'db'] });
    expect(names(r)).toEqual(['debug']);
    expect(r.withoutBuild).toEqual(['db']);
  });
  test('--with-dependencies adds what the named services depend on', () => {
    expect(names(select(model, { services: ['web'], withDependencies: true }))).toEqual(['api', 'web']);
    expect(names(select(model, { services: ['web'] }))).toEqual(['web']);
  });
  test('a service without a body is not built and does not break selection', () => {
    expect(select({ services: { empty: null, app: { build: '.' } } }, { withDependencies: true })).toMatchObject({ withoutBuild: ['empty'], builds: [{ service: 'app' }] });
  });
  test('--compatibility uses _ in default image names', () => {
    expect(select(model, { separator: '_' }).builds[0]!.image).toBe('proj_api');
  });
  test('an unknown service, a cycle and include: are errors', () => {
    expect(usageError(() => select(model, { services: ['nope'] }))).toBe('no such service: "nope"; the compose files define web, db, api, debug.');
    expect(usageError(() => select({ services: { a: { build: '.', depends_on: ['b'] }, b: { build: '.', depends_on: ['a'] } } }))).toMatch(/services a, b depend on each other/);
    expect(usageError(() => select({ include: ['x.yml'], services: {} }))).toMatch(/include: is not supported/);
  });
});

describe('effectiveArgs', () => {
  test('--build-arg on top of build.args; value-less ones from the environment, left out when unset', () => {
    const b = only({ context: '.', args: { A: '1', FROM_ENV: null, GONE: null, B: '2' } });
    expect(effectiveArgs(b, [['B', '3'], ['CLI_ENV', null]], { FROM_ENV: 'e', CLI_ENV: 'c' })).toEqual([['A', '1'], ['FROM_ENV', 'e'], ['B', '3'], ['CLI_ENV', 'c']]);
  });
});

describe('composeSecrets', () => {
  const ref = (id: string, env: string, extra: Partial<SecretSpec> = {}): SecretSpec =>
    ({ kind: 'ref', id, optional: false, mount: true, origin: `--secret id=${id}`, ref: { scheme: 'env', key: env, baseDir: '/cwd' }, ...extra }) as SecretSpec;
  const setup = (top: Record<string, unknown>, grants: unknown[], own: SecretSpec[] = []) => {
    const p = project({ services: { app: { build: { context: '.', secrets: grants } } }, secrets: top });
    const builds = selectBuilds(p, { services: [], profiles: [], withDependencies: false, separator: '-' }).builds;
    return composeSecrets(p, builds, own);
  };

  test("secbuild's secret wins over a compose definition of the same name, and says so", () => {
    const r = setup({ tok: { environment: 'OLD' } }, ['tok'], [ref('tok', 'NEW')]);
    expect(r.specs).toMatchObject([{ id: 'tok', ref: { key: 'NEW' }, mount: true }]);
    expect(r.notes).toEqual(['compose.yaml: secrets.tok (environment: OLD) is replaced for the build by secbuild\'s secret "tok" from --secret id=tok.']);
  });

  test('compose file: (relative to the project directory) and environment: become file:/env: references', () => {
    const r = setup({ f: { file: './secrets/f.txt' }, e: { environment: 'E_VAR' } }, ['f', 'e']);
    expect(r.specs).toMatchObject([
      { id: 'f', ref: { scheme: 'file', key: './secrets/f.txt', baseDir: '/p' }, origin: 'compose.yaml secrets.f' },
      { id: 'e', ref: { scheme: 'env', key: 'E_VAR' } },
    ]);
  });

  test('template inputs are resolved but not handed over; ungranted secbuild secrets are listed', () => {
    const netrc = { kind: 'netrc', id: 'netrc', optional: false, mount: true, origin: 'secbuild.yml netrc', entries: [{ machine: 'h', login: { kind: 'literal', text: 'x' }, password: { kind: 'secret', name: 'gh' } }] } as SecretSpec;
    const r = setup({}, ['netrc'], [ref('gh', 'GH', { mount: false }), netrc, ref('spare', 'S')]);
    expect(r.specs.map((s) => [s.id, s.mount])).toEqual([['netrc', true], ['gh', false]]);
    expect(r.ungranted).toEqual(['spare']);
  });

  test.each<[string, Record<string, unknown>, unknown[], RegExp]>([
    ['undefined anywhere', {}, ['ghost'], /compose.yaml: services.app.build.secrets\[0\] names secret "ghost", which neither secbuild .* nor the compose files' top-level secrets: define; define it for secbuild with --secret id=ghost,from=REF/],
    ['external', { ext: { external: true } }, ['ext'], /secrets.ext is external: true, and Compose drops external secrets from builds without a word/],
    ['both file and environment', { b: { file: 'x', environment: 'Y' } }, ['b'], /secrets.b: a build secret needs exactly one of file: or environment: \(found file: x\)/],
  ])('%s: UsageError naming file, key and fix', (_name, top, grants, message) => {
    expect(usageError(() => setup(top, grants))).toMatch(message);
  });

  test('an external secret that secbuild defines is replaced, with the reason', () => {
    expect(setup({ ext: { external: true } }, ['ext'], [ref('ext', 'X')]).notes[0]).toMatch(/secrets.ext \(external: true\) is replaced .* \(Compose would drop an external build secret without a word\)/);
  });
});

describe('checkSecretVariables', () => {
  test('a build value interpolated from a secret variable, or a value-less arg named like one, is refused', () => {
    const p = project({ services: { app: { build: { context: '.', args: { NPM_TOKEN: null } } } } }, {
      usedVars: new Map([['services.app.build.args.T', { file: 'compose.yaml', vars: ['HOME', 'NPM_TOKEN'] }], ['services.app.environment.X', { file: 'compose.yaml', vars: ['NPM_TOKEN'] }]]),
    });
    const builds = selectBuilds(p, { services: [], profiles: [], withDependencies: false, separator: '-' }).builds;
    const message = usageError(() => checkSecretVariables(p, builds, new Set(['NPM_TOKEN'])));
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^compose.yaml: services.app.build.args.T is interpolated from \$NPM_TOKEN, which secbuild reads a secret from/),
      expect.stringMatching(/^compose.yaml: services.app.build.args.NPM_TOKEN takes its value from \$NPM_TOKEN/),
    ]);
    expect(() => checkSecretVariables(p, builds, new Set(['OTHER']))).not.toThrow();
  });
});

describe('preflightServices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-compose-preflight-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'Dockerfile'), ['FROM x AS a', 'ARG ID', 'RUN --mount=type=secret,id=$ID true', 'RUN --mount=type=secret,id=other,required true', 'FROM x AS b', 'RUN --mount=type=secret,id=b true', ''].join('\n'));
  const env = { SECBUILD_NO_CACHE: '1' };
  const build = (over: Partial<ServiceBuild>): ServiceBuild => ({ ...only(dir), dockerfile: join(dir, 'Dockerfile'), files: ['compose.yaml'], ...over });

  test('a mounted id the service does not grant names service, Dockerfile line and the key to add', async () => {
    const err = await preflightServices([build({ target: 'a', args: [['ID', 'netrc']], grants: [{ source: 'netrc', id: 'netrc', at: 'x' }] })], [], env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      `service "app": ${dir}/Dockerfile:4: RUN mounts secret "other", which services.app.build.secrets in compose.yaml does not grant; the mount has required=true, so BuildKit would stop the build. Add "- other" under services.app.build.secrets.`,
    );
  });

  test('--build-arg feeds the scan; the target limits the stages', async () => {
    const grants = [{ source: 's', id: 'fromcli', at: 'x' }, { source: 'o', id: 'other', at: 'y' }];
    await expect(preflightServices([build({ target: 'a', args: [['ID', 'fromfile']], grants })], [['ID', 'fromcli']], env)).resolves.toBeInstanceOf(Map);
    await expect(preflightServices([build({ target: 'b', grants: [{ source: 'b', id: 'b', at: 'z' }] })], [], env)).resolves.toBeInstanceOf(Map);
  });

  test('an ssh mount the service does not forward under build.ssh (nor compose --ssh) is an error naming the line', async () => {
    const sshDir = mkdtempSync(join(dir, 'ssh-'));
    writeFileSync(join(sshDir, 'Dockerfile'), 'FROM x\nRUN --mount=type=ssh,id=gl true\n');
    const b = (ssh: string[]) => build({ dockerfile: join(sshDir, 'Dockerfile'), ssh });
    await expect(preflightServices([b([])], [], env)).rejects.toThrow(`service "app": ${sshDir}/Dockerfile:2: RUN mounts ssh id "gl", which services.app.build.ssh in compose.yaml does not forward. Add "- gl" under services.app.build.ssh and give its key with --ssh-key gl=REF`);
    await expect(preflightServices([b(['gl'])], [], env)).resolves.toBeInstanceOf(Map);
    await expect(preflightServices([b([])], [], env, ['gl=/a.sock'])).resolves.toBeInstanceOf(Map);
  });

  test('env= on a mount: refused per service where the daemon\'s frontend is older than 1.10, the daemon asked once', async () => {
    const envDir = mkdtempSync(join(dir, 'env-'));
    writeFileSync(join(envDir, 'Dockerfile'), 'FROM x\nRUN --mount=type=secret,id=tok,env=TOKEN true\n');
    const b = (service: string) => build({ service, dockerfile: join(envDir, 'Dockerfile'), grants: [{ source: 'tok', id: 'tok', at: 'x' }] });
    let asked = 0;
    const daemon = (version: string) => async (): Promise<Builder> => {
      asked++;
      return { engine: 'docker', version };
    };
    const err = await preflightServices([b('app'), b('web')], [], env, [], daemon('26.1.5')).catch((e: unknown) => e);
    expect(asked).toBe(1);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^service "app": ${envDir}/Dockerfile:2: RUN --mount … env=TOKEN needs the Dockerfile frontend 1\\.10 or later; .*docker engine 26\\.1\\.5's own frontend`)),
      expect.stringMatching(/^service "web": .*Dockerfile:2: .*TOKEN="\$\(cat \/run\/secrets\/tok\)"\.$/),
    ]);
    await expect(preflightServices([b('app')], [], env, [], daemon('28.2.2'))).resolves.toBeInstanceOf(Map);
  });

  test('an unknown target names the compose key', async () => {
    await expect(preflightServices([build({ target: 'nope' })], [], env)).rejects.toThrow(/service "app": .*services.app.build.target "nope" names no stage; its stages are: a, b/);
  });
});
