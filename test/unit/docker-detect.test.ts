/**
 * How a docker CLI builds with BuildKit (issue 23): decided by what its
 * `docker build` is, not by whether `docker buildx version` answers. The
 * probe outputs below are the real ones of this machine's clients with the
 * trixie plugins installed (docker 20.10.24: `build --help` is the classic
 * front end although `buildx version` answers; docker 28.2.2: `build --help`
 * is buildx's).
 */
import { describe, expect, test } from 'vitest';
import { classifyBuild, type BuildProbe } from '../../src/engines/docker/detect.js';

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
