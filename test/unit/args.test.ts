import { describe, expect, test } from 'vitest';
import { parseBuildArgs, type BuildArgs } from '../../src/args/build.js';
import { UsageError } from '../../src/util/errors.js';

describe('parseBuildArgs: own options', () => {
  test.each<[string, string[], Partial<BuildArgs>]>([
    ['--secret V', ['--secret', 'id=a,from=env:A', '.'], { secrets: ['id=a,from=env:A'] }],
    ['--secret=V', ['--secret=id=a,from=env:A', '.'], { secrets: ['id=a,from=env:A'] }],
    ['--secret repeated, in order', ['--secret', 'id=a', '--secret=id=b', '.'], { secrets: ['id=a', 'id=b'] }],
    ['--netrc repeated', ['--netrc', 'machine=a', '--netrc=machine=b', '.'], { netrc: ['machine=a', 'machine=b'] }],
    ['--npmrc V', ['--npmrc', 'registry=https://r/,token=t', '.'], { npmrc: ['registry=https://r/,token=t'] }],
    ['--config V', ['--config', 'ci.yml', '.'], { config: 'ci.yml' }],
    ['--config=V', ['--config=ci.yml', '.'], { config: 'ci.yml' }],
    ['--tmpdir V', ['--tmpdir', '/dev/shm', '.'], { tmpdir: '/dev/shm' }],
    ['--tmpdir=V', ['--tmpdir=/dev/shm', '.'], { tmpdir: '/dev/shm' }],
    ['--docker V', ['--docker', '/usr/bin/docker', '.'], { docker: '/usr/bin/docker' }],
    ['--docker=V', ['--docker=/usr/bin/docker', '.'], { docker: '/usr/bin/docker' }],
    ['--dry-run', ['--dry-run', '.'], { dryRun: true }],
    ['--require-tmpfs', ['--require-tmpfs', '.'], { requireTmpfs: true }],
    ['--verify', ['--verify', '-t', 'app', '.'], { verify: true, dockerArgs: ['-t', 'app', '.'] }],
    ['--help', ['--help'], { help: true }],
    ['-h', ['-h'], { help: true }],
    ['an = inside the value is kept', ['--secret=id=a,src=x=y', '.'], { secrets: ['id=a,src=x=y'] }],
  ])('%s', (_name, argv, expected) => {
    const out = parseBuildArgs(argv);
    expect(out).toMatchObject(expected);
    // Own options never reach docker.
    for (const a of out.dockerArgs) expect(a).not.toMatch(/^--(secret|netrc|npmrc|config|tmpdir|docker|dry-run|require-tmpfs)\b/);
  });

  test('defaults when nothing is given', () => {
    expect(parseBuildArgs(['.'])).toEqual({
      secrets: [], netrc: [], npmrc: [], sshKeys: [], dryRun: false, requireTmpfs: false, help: false,
      mask: false, noMask: false, allowSecretBuildArg: [], verify: false,
      dockerArgs: ['.'], contextIndex: 0, buildArgs: [], ssh: [],
    });
  });
});

describe('parseBuildArgs: docker arguments pass through verbatim and in order', () => {
  test.each<[string, string[], string[], number]>([
    ['-t app', ['-t', 'app', '.'], ['-t', 'app', '.'], 2],
    ['-tapp', ['-tapp', '.'], ['-tapp', '.'], 1],
    ['-t=app', ['-t=app', '.'], ['-t=app', '.'], 1],
    ['--tag=app', ['--tag=app', '.'], ['--tag=app', '.'], 1],
    ['--tag app', ['--tag', 'app', '.'], ['--tag', 'app', '.'], 2],
    ['-f Dockerfile.x', ['-f', 'Dockerfile.x', '.'], ['-f', 'Dockerfile.x', '.'], 2],
    ['--build-arg A=1', ['--build-arg', 'A=1', '.'], ['--build-arg', 'A=1', '.'], 2],
    ['--progress plain', ['--progress', 'plain', '.'], ['--progress', 'plain', '.'], 2],
    ['--no-cache (switch)', ['--no-cache', '.'], ['--no-cache', '.'], 1],
    ['-q (switch)', ['-q', '.'], ['-q', '.'], 1],
    ['--check (switch)', ['--check', '.'], ['--check', '.'], 1],
    ['--ssh default', ['--ssh', 'default', '.'], ['--ssh', 'default', '.'], 2],
    ['context first', ['.', '-t', 'app'], ['.', '-t', 'app'], 0],
    ['- (stdin) as context', ['-t', 'app', '-'], ['-t', 'app', '-'], 2],
    ['a URL as context', ['-t', 'app', 'https://github.com/docker/buildx.git#main'], ['-t', 'app', 'https://github.com/docker/buildx.git#main'], 2],
    ['a flag value that looks like a context', ['-o', 'type=local,dest=out', '--target', 'build', 'ctx'], ['-o', 'type=local,dest=out', '--target', 'build', 'ctx'], 4],
    ['-- ends the options', ['-t', 'app', '--', '-weird-dir'], ['-t', 'app', '-weird-dir'], 2],
    ['no context', ['-t', 'app'], ['-t', 'app'], -1],
    [
      'own options interleaved are removed, docker order kept',
      ['--no-cache', '--secret', 'id=a', '-t', 'app', '--dry-run', '--platform=linux/amd64', '--npmrc=x', '.', '--push'],
      ['--no-cache', '-t', 'app', '--platform=linux/amd64', '.', '--push'],
      4,
    ],
  ])('%s', (_name, argv, dockerArgs, contextIndex) => {
    const out = parseBuildArgs(argv);
    expect(out.dockerArgs).toEqual(dockerArgs);
    expect(out.contextIndex).toBe(contextIndex);
  });
});

describe('parseBuildArgs: -f, --target and --build-arg values are noted', () => {
  test.each<[string, string[], Pick<BuildArgs, 'file' | 'target' | 'buildArgs'>]>([
    ['-f X', ['-f', 'Dockerfile.x', '.'], { file: 'Dockerfile.x', target: undefined, buildArgs: [] }],
    ['-fX', ['-fDockerfile.x', '.'], { file: 'Dockerfile.x', target: undefined, buildArgs: [] }],
    ['-f=X', ['-f=Dockerfile.x', '.'], { file: 'Dockerfile.x', target: undefined, buildArgs: [] }],
    ['--file X', ['--file', 'sub/Dockerfile', '.'], { file: 'sub/Dockerfile', target: undefined, buildArgs: [] }],
    ['--file=X', ['--file=sub/Dockerfile', '.'], { file: 'sub/Dockerfile', target: undefined, buildArgs: [] }],
    ['-f - (stdin)', ['-f', '-', '.'], { file: '-', target: undefined, buildArgs: [] }],
    ['--target T', ['--target', 'prod', '.'], { file: undefined, target: 'prod', buildArgs: [] }],
    ['--target=T', ['--target=prod', '.'], { file: undefined, target: 'prod', buildArgs: [] }],
    ['--build-arg in both forms', ['--build-arg', 'A=1', '--build-arg=B=2', '--build-arg', 'C', '.'], { file: undefined, target: undefined, buildArgs: ['A=1', 'B=2', 'C'] }],
    ['the last -f wins', ['-f', 'a', '--file=b', '.'], { file: 'b', target: undefined, buildArgs: [] }],
  ])('%s', (_name, argv, noted) => {
    const out = parseBuildArgs(argv);
    expect({ file: out.file, target: out.target, buildArgs: out.buildArgs }).toEqual(noted);
  });
});

describe('parseBuildArgs: usage errors', () => {
  test.each<[string, string[], RegExp]>([
    ['--secret without a value', ['.', '--secret'], /--secret needs a value/],
    ['--config without a value', ['--config'], /--config needs a value/],
    ['docker -t without a value', ['.', '-t'], /-t needs a value/],
    ['docker --target without a value', ['.', '--target'], /--target needs a value/],
    ['two contexts', ['.', 'other'], /one build context, got "\.", "other"/],
    ['a value whose flag is missing', ['-t', 'app', 'latest', '.'], /one build context, got "latest", "\."/],
    ['a switch given a value', ['--dry-run=yes', '.'], /--dry-run takes no value/],
    ['--require-tmpfs given a value', ['--require-tmpfs=1', '.'], /--require-tmpfs takes no value/],
    ['--help given a value', ['--help=1', '.'], /--help takes no value/],
    ['non-repeatable --config twice', ['--config', 'a.yml', '--config=b.yml', '.'], /--config is given twice/],
    ['non-repeatable --tmpdir twice', ['--tmpdir=a', '--tmpdir', 'b', '.'], /--tmpdir is given twice/],
  ])('%s', (_name, argv, message) => {
    let caught: unknown;
    try {
      parseBuildArgs(argv);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toMatch(message);
  });
});
