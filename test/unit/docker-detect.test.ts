/**
 * How a docker CLI builds with BuildKit (issue 23): decided by what its
 * `docker build` is, not by whether `docker buildx version` answers. The
 * probe outputs below are the real ones of this machine's clients with the
 * trixie plugins installed (docker 20.10.24: `build --help` is the classic
 * front end although `buildx version` answers; docker 28.2.2: `build --help`
 * is buildx's).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { classifyBuild, engineInputs, type BuildProbe } from '../../src/engines/docker/detect.js';

const BUILDX_OUT = 'github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3\n';
const CLASSIC_HELP = '\nUsage:  docker build [OPTIONS] PATH | URL | -\n\nBuild an image from a Dockerfile\n\nOptions:\n      --add-host list\n';
const BUILDX_HELP =
  'Start a build\n\nUsage:  docker buildx build [OPTIONS] PATH | URL | -\n\nStart a build\n\nAliases:\n  docker build, docker builder build\n\nOptions:\n      --builder string                Override the configured builder\n      --load                          Shorthand for "--output=type=docker"\n';

const probe = (p: Partial<BuildProbe>): BuildProbe => ({ clientVersion: '20.10.24+dfsg1', buildxOk: false, buildxOut: '', buildHelp: CLASSIC_HELP, ...p });

describe('classifyBuild', () => {
  test('docker 20.10 with the buildx plugin: `docker buildx version` answers, but `docker build` stays the classic front end (DOCKER_BUILDKIT=1)', () => {
    expect(classifyBuild(probe({ buildxOk: true, buildxOut: BUILDX_OUT }))).toEqual({ buildkit: 'legacy-env', buildxVersion: '0.13.1+ds1' });
  });

  test('docker 20.10 without the plugin: the classic front end with DOCKER_BUILDKIT=1', () => {
    expect(classifyBuild(probe({}))).toEqual({ buildkit: 'legacy-env' });
  });

  test('docker 28 with the plugin: `docker build` is buildx', () => {
    expect(classifyBuild(probe({ clientVersion: '28.2.2', buildxOk: true, buildxOut: BUILDX_OUT, buildHelp: BUILDX_HELP }))).toEqual({ buildkit: 'buildx', buildxVersion: '0.13.1+ds1' });
  });

  test('docker 20.10 whose config aliases build to buildx (`docker buildx install`): `docker build` is buildx', () => {
    expect(classifyBuild(probe({ buildxOk: true, buildxOut: BUILDX_OUT, buildHelp: BUILDX_HELP }))).toEqual({ buildkit: 'buildx', buildxVersion: '0.13.1+ds1' });
  });

  test('docker 28 without the plugin: no BuildKit (undefined), even though `buildx version` might not be asked', () => {
    expect(classifyBuild(probe({ clientVersion: '28.2.2', buildHelp: 'ERROR: BuildKit is enabled but the buildx component is missing or broken.\n' }))).toBeUndefined();
  });

  test('docker 28 whose buildx plugin answers but whose build is not buildx (DOCKER_BUILDKIT=0 style): no BuildKit', () => {
    expect(classifyBuild(probe({ clientVersion: '28.2.2', buildxOk: true, buildxOut: BUILDX_OUT }))).toBeUndefined();
  });

  test('an unknown client version with a classic build: no BuildKit (cannot tell it is older than 23)', () => {
    expect(classifyBuild(probe({ clientVersion: '' }))).toBeUndefined();
  });
});

// Issue 22 break 14: the engine cache is keyed by every plugin directory docker searches,
// including those config.json names in cliPluginsExtraDirs (docker/cli cli-plugins/manager).
describe('engineInputs (the engine cache key)', () => {
  const base = mkdtempSync(join(tmpdir(), 'sb-enginputs-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  /** A DOCKER_CONFIG whose config.json names `extra` directories, which exist, empty. */
  const configWith = (extra: number): { env: NodeJS.ProcessEnv; dirs: string[] } => {
    const root = join(base, `c${n++}`);
    const dirs = Array.from({ length: extra }, (_, i) => join(root, `plugins-${i}`));
    for (const d of [root, ...dirs]) mkdirSync(d, { recursive: true });
    writeFileSync(join(root, 'config.json'), JSON.stringify({ auths: {}, cliPluginsExtraDirs: dirs }));
    return { env: { DOCKER_CONFIG: root, HOME: base }, dirs };
  };

  test('a docker-buildx added to, then removed from, a cliPluginsExtraDirs directory changes the key (config.json untouched)', () => {
    const { env, dirs } = configWith(2);
    const before = engineInputs(env);
    writeFileSync(join(dirs[1]!, 'docker-buildx'), '#!/bin/sh\n', { mode: 0o755 });
    const added = engineInputs(env);
    expect(added).not.toBe(before);
    rmSync(join(dirs[1]!, 'docker-buildx'));
    expect(engineInputs(env)).not.toBe(added);
  });

  test('a docker-buildx replaced in place in a cliPluginsExtraDirs directory changes the key', () => {
    const { env, dirs } = configWith(1);
    const plugin = join(dirs[0]!, 'docker-buildx');
    writeFileSync(plugin, 'old\n', { mode: 0o755 });
    const before = engineInputs(env);
    rmSync(plugin);
    writeFileSync(plugin, 'a newer plugin\n', { mode: 0o755 });
    expect(engineInputs(env)).not.toBe(before);
  });

  test('unchanged inputs give the same key (the cache still hits); a config.json that is not JSON, or names no list, is read as no extra directories', () => {
    const { env } = configWith(1);
    expect(engineInputs(env)).toBe(engineInputs(env));
    for (const text of ['{not json', JSON.stringify({ cliPluginsExtraDirs: 'one/dir' }), JSON.stringify({ cliPluginsExtraDirs: [7, null] })]) {
      writeFileSync(join(env.DOCKER_CONFIG!, 'config.json'), text);
      expect(() => engineInputs(env)).not.toThrow();
      expect(engineInputs(env)).toBe(engineInputs(env));
    }
  });
});
