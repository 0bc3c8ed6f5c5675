/**
 * What --verify searches after a build, from docker's own flags and the
 * buildx builder (src/engines/docker/outputs.ts, builder.ts): pure tables.
 */
import { describe, expect, test } from 'vitest';
import { builderDaemonEnv, builderFlag, parseInspect } from '../../src/engines/docker/builder.js';
import { scrubEnv } from '../../src/run/env.js';
import { producedBy, type BuilderFacts } from '../../src/engines/docker/outputs.js';

const DOCKER: BuilderFacts = { name: 'default', driver: 'docker' };
const CONTAINER: BuilderFacts = { name: 'ci', driver: 'docker-container' };

describe('producedBy', () => {
  test.each<[string, string[], BuilderFacts | undefined, unknown[]]>([
    ['classic front end, no output', ['-t', 'x', '.'], undefined, [{ kind: 'image' }]],
    ['docker driver, no output', ['-t', 'x', '.'], DOCKER, [{ kind: 'image' }]],
    ['--load', ['--load', '.'], CONTAINER, [{ kind: 'image' }]],
    ['type=docker without dest loads', ['--output=type=docker', '.'], CONTAINER, [{ kind: 'image' }]],
    ['type=image on the docker driver', ['-o', 'type=image,name=x', '.'], DOCKER, [{ kind: 'image' }]],
    ['type=image,push=false', ['-o', 'type=image,push=false', '.'], DOCKER, [{ kind: 'image' }]],
    ['oci archive', ['-o', 'type=oci,dest=out/img.tar', '.'], DOCKER, [{ kind: 'archive', format: 'oci', path: '/w/out/img.tar', flag: '--output type=oci,dest=out/img.tar' }]],
    ['docker archive, -o=', ['-o=type=docker,dest=/tmp/i.tar', '.'], CONTAINER, [{ kind: 'archive', format: 'docker', path: '/tmp/i.tar', flag: '--output type=docker,dest=/tmp/i.tar' }]],
    ['oci directory', ['-o', 'type=oci,dest=d,tar=false', '.'], DOCKER, [{ kind: 'files', format: 'dir', path: '/w/d', flag: '--output type=oci,dest=d,tar=false' }]],
    ['local', ['--output', 'type=local,dest=rootfs', '.'], undefined, [{ kind: 'files', format: 'dir', path: '/w/rootfs', flag: '--output type=local,dest=rootfs' }]],
    ['-o DIR is local', ['-o', 'rootfs', '.'], undefined, [{ kind: 'files', format: 'dir', path: '/w/rootfs', flag: '--output rootfs' }]],
    ['-oDIR', ['-orootfs', '.'], undefined, [{ kind: 'files', format: 'dir', path: '/w/rootfs', flag: '--output rootfs' }]],
    ['tar', ['-o', 'type=tar,dest=fs.tar', '.'], DOCKER, [{ kind: 'files', format: 'tar', path: '/w/fs.tar', flag: '--output type=tar,dest=fs.tar' }]],
    ['quoted dest', ['-o', 'type=local,"dest=a b"', '.'], DOCKER, [{ kind: 'files', format: 'dir', path: '/w/a b', flag: '--output type=local,"dest=a b"' }]],
    ['--load=false is no output', ['--load=false', '.'], DOCKER, [{ kind: 'image' }]],
  ])('%s', (_, args, builder, expected) => {
    expect(producedBy(args, builder, '/w')).toEqual(expected);
  });

  test.each<[string, string[], BuilderFacts | undefined, RegExp]>([
    ['--push', ['--push', '-t', 'r/x', '.'], DOCKER, /--push sends the image to its registry before --verify could search it/],
    ['type=registry', ['-o', 'type=registry', '.'], DOCKER, /type=registry sends the image to its registry/],
    ['type=image,push=true', ['-o', 'type=image,push=true', '.'], CONTAINER, /sends the image to its registry/],
    ['-o -', ['-o', '-', '.'], undefined, /writes the result to stdout/],
    ['dest=-', ['-o', 'type=docker,dest=-', '.'], DOCKER, /writes the result to stdout/],
    ['oci without dest', ['-o', 'type=oci', '.'], DOCKER, /writes the result to stdout/],
    ['docker-container, no output', ['.'], CONTAINER, /builder "ci" \(driver docker-container\) keeps the result in its own cache.*add --load/],
    ['docker-container, type=image', ['-o', 'type=image,name=x', '.'], CONTAINER, /keeps the result in its own cache/],
    ['cacheonly', ['-o', 'type=cacheonly', '.'], DOCKER, /keeps only the build cache/],
    ['unknown type', ['-o', 'type=wasm,dest=x', '.'], DOCKER, /does not know where output type "wasm"/],
  ])('cannot: %s', (_, args, builder, why) => {
    const p = producedBy(args, builder, '/w');
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ kind: 'none' });
    expect((p[0] as { why: string }).why).toMatch(why);
  });
});

describe('buildx inspect', () => {
  test('parses the builder and its first endpoint', () => {
    const text = 'Name:          d26\nDriver:        docker\nLast Activity: 2026-12-06 10:00:00 +0000 UTC\n\nNodes:\nName:      d26\nEndpoint:  d26\nStatus:    running\nBuildKit version: v0.0.0+unknown\n';
    expect(parseInspect(text)).toEqual({ name: 'd26', driver: 'docker', endpoint: 'd26' });
    expect(parseInspect('Name: ci\nDriver: docker-container\n\nNodes:\nName: ci0\nEndpoint: unix:///var/run/docker.sock\n')).toEqual({ name: 'ci', driver: 'docker-container', endpoint: 'unix:///var/run/docker.sock' });
    expect(parseInspect('nothing here')).toBeUndefined();
  });

  test.each([
    [['--builder', 'ci', '.'], 'ci'],
    [['--builder=ci', '--builder', 'other', '.'], 'other'],
    [['.'], undefined],
  ])('builderFlag %j', (args, name) => {
    expect(builderFlag(args)).toBe(name);
  });
});

describe('builderDaemonEnv: where a docker-driver builder keeps its images', () => {
  const env = scrubEnv({ PATH: '/bin', DOCKER_HOST: 'unix:///a.sock' }, new Set());
  test.each<[string, string, string | undefined, Record<string, string | undefined> | undefined]>([
    ['the default context: the env reaches it', 'docker', 'default', undefined],
    ['another context: DOCKER_CONTEXT, no DOCKER_HOST', 'docker', 'd26', { DOCKER_CONTEXT: 'd26', DOCKER_HOST: undefined }],
    ['a URL: DOCKER_HOST', 'docker', 'tcp://10.0.0.1:2376', { DOCKER_CONTEXT: undefined, DOCKER_HOST: 'tcp://10.0.0.1:2376' }],
    ['another driver: loads go to the client\'s daemon', 'docker-container', 'd26', undefined],
  ])('%s', (_, driver, endpoint, vars) => {
    const out = builderDaemonEnv({ name: 'b', driver, ...(endpoint ? { endpoint } : {}) }, env);
    if (vars === undefined) expect(out).toBeUndefined();
    else expect({ DOCKER_CONTEXT: out?.DOCKER_CONTEXT, DOCKER_HOST: out?.DOCKER_HOST }).toEqual(vars);
  });
});
