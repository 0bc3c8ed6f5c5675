/**
 * `secbuild verify --archive FILE` through the built CLI on a machine without
 * docker: PATH holds no docker, SECBUILD_DOCKER names nothing and DOCKER_HOST
 * no daemon, so any docker call or daemon probe would fail the run (exit 2).
 * The archives are written here in both layouts (test/unit/verify-helpers.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { expectNoSecret, listDir, noDockerEnv, nonce, runCli, sandbox, startCli } from '../helpers/cli.js';
import { gzip, imageArchive, type ImageSpec } from '../unit/verify-helpers.js';

const VALUE = `archive-${nonce()}-value`;

const image = (layout: 'docker' | 'oci', leak: boolean, gz = false): ImageSpec => ({
  layout,
  layers: [
    { gzip: gz, entries: [{ name: 'etc/os-release', data: 'NAME=test\n' }] },
    { gzip: gz, entries: [{ name: 'srv/config.ini', data: leak ? `token=${VALUE}\n` : 'token=\n' }] },
  ],
  config: { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'] }, history: [{ created_by: 'ADD rootfs /' }, { created_by: 'COPY config.ini /srv/' }] },
});

describe('secbuild verify --archive without docker or a daemon', () => {
  const box = sandbox();
  const bin = join(box.dir, 'bin');
  mkdirSync(bin);
  // PATH lacks docker (and podman): only an empty directory.
  const env = noDockerEnv(box, { PATH: bin, A_TOK: VALUE });
  const tok = ['--secret', 'id=tok,from=env:A_TOK'];
  const file = async (name: string, spec: ImageSpec, whole?: 'gzip') => {
    const { archive } = await imageArchive(spec);
    const path = join(box.dir, name);
    writeFileSync(path, whole === 'gzip' ? gzip(archive) : archive);
    return path;
  };
  afterAll(() => box.cleanup());

  test('a Docker-layout archive holding the value: exit 4, the layer and file named, not the value', async () => {
    const path = await file('docker-leak.tar', image('docker', true));
    const r = await runCli(['verify', ...tok, '--archive', path], { env });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toMatch(/^LEAK secret "tok" \(env:A_TOK\) in layer 1 sha256:[0-9a-f]{64} \(history\[1\]\): \/srv\/config\.ini \[raw\]$/m);
    expect(r.stdout).toContain(`${path} (sha256:`);
    expectNoSecret(r.stdout + r.stderr, [VALUE]);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a clean archive: exit 0, every layer searched', async () => {
    const path = await file('docker-clean.tar', image('docker', false));
    const r = await runCli(['verify', ...tok, '--archive', path], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: clean; searched 2 layers .*1 secret searched for: tok$/m);
  });

  test('an OCI-layout archive with gzip-compressed layers: exit 4, the layer digest named', async () => {
    const path = await file('oci-gz.tar', image('oci', true, true));
    const r = await runCli(['verify', ...tok, '--archive', path], { env });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toMatch(/^LEAK secret "tok" \(env:A_TOK\) in layer 1 sha256:[0-9a-f]{64} \(history\[1\]\): \/srv\/config\.ini \[raw\]$/m);
  });

  test('a gzip-compressed archive (docker save | gzip): exit 4', async () => {
    const path = await file('oci.tar.gz', image('oci', true), 'gzip');
    const r = await runCli(['verify', ...tok, '--archive', path], { env });
    expect(r.code, r.stderr).toBe(4);
  });

  test('--format json: the whole result, the hit with its layer and path', async () => {
    const path = await file('oci-json.tar', image('oci', true));
    const r = await runCli(['verify', ...tok, '--format', 'json', '--archive', path], { env });
    expect(r.code, r.stderr).toBe(4);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ image: path, clean: false, layers: 2, historyEntries: 0, secrets: ['tok'], unreadable: [] });
    expect(result.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.hits).toEqual([expect.objectContaining({ secret: 'tok', in: 'layer', path: '/srv/config.ini', layer: expect.objectContaining({ index: 1, of: 2 }) })]);
    expectNoSecret(r.stdout, [VALUE]);
  });

  test('a FIFO: exit 2 at once with one line, nothing read (run with a timeout)', async () => {
    const fifo = join(box.dir, 'fifo.tar');
    execFileSync('mkfifo', [fifo]);
    const run = startCli(['verify', ...tok, '--archive', fifo], { env });
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
    const r = await run.done.finally(() => clearTimeout(timer));
    expect(r.signal).toBeNull();
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`secbuild: secbuild verify --archive: ${fifo} is a FIFO, not a regular file (a pipe or a device could block the read or never end); write the archive to a file first; it is not verified.`);
  });

  test.each([
    ['a missing file', 'nope.tar', /^secbuild: secbuild verify --archive: \S+nope\.tar does not exist \(give an image archive: docker save -o FILE/],
    ['a file that is not a tar', 'notes.txt', /^secbuild: secbuild verify --archive: \S+notes\.txt is not a tar archive, so not an image archive/],
  ])('%s: exit 2, one line naming it', async (_what, name, message) => {
    if (name === 'notes.txt') writeFileSync(join(box.dir, name), 'just some text\n'.repeat(100));
    const r = await runCli(['verify', ...tok, '--archive', join(box.dir, name)], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  test('--archive with an image name, or with --context: usage errors (exit 2)', async () => {
    const path = await file('usage.tar', image('docker', false));
    const both = await runCli(['verify', ...tok, '--archive', path, 'app:1'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/takes --archive FILE or an image, not both/);
    const ctx = await runCli(['verify', ...tok, '--context', 'x', '--archive', path], { env });
    expect(ctx.code).toBe(2);
    expect(ctx.stderr).toMatch(/--archive reads a file and asks no daemon, so --context cannot go with it/);
  });
});
