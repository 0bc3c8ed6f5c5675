/**
 * `secbuild verify --archive FILE` on what the real daemon saves (issue 23
 * item 5): an image built here is written with `docker save -o`, then
 * searched from the file with no docker on PATH and no daemon named; it
 * must report the same hits as `secbuild verify IMAGE` on the daemon.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { VerifyResult } from '../../src/verify/scan.js';
import { context, expectNoSecret, listDir, noDockerEnv, nonce, runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

describeE2E('verify --archive of a docker save file', () => {
  const box = sandbox();
  const id = nonce();
  const tag = `secbuild-archive-${id}:leaky`;
  const value = `archive-e2e-${id}-VALUE`;
  const file = join(box.dir, 'image.tar');
  const ctx = context(['FROM $BASE', 'COPY leak.txt /srv/leak.txt', `RUN echo ${id} > /clean`].join('\n'), { 'leak.txt': `token=${value}\n` });
  const bin = join(box.dir, 'bin');
  const tok = ['--secret', 'id=tok,from=env:A_TOK'];

  beforeAll(async () => {
    const built = await docker(['build', '-q', '-t', tag, ctx.dir]);
    expect(built.code, built.stderr).toBe(0);
    const saved = await docker(['save', '-o', file, tag]);
    expect(saved.code, saved.stderr).toBe(0);
    mkdirSync(bin);
  });
  afterAll(async () => {
    await docker(['rmi', '-f', tag]);
    ctx.cleanup();
    box.cleanup();
  });

  test('the saved file, searched without docker: exit 4, the same hits as verify IMAGE on the daemon', async () => {
    const offline = await runCli(['verify', ...tok, '--format', 'json', '--archive', file], { env: noDockerEnv(box, { PATH: bin, A_TOK: value }) });
    expect(offline.code, offline.stderr).toBe(4);
    const fromFile = JSON.parse(offline.stdout) as VerifyResult;
    expect(fromFile.hits.map((h) => [h.in, h.path, h.layer?.index])).toEqual([['layer', '/srv/leak.txt', 1]]);
    expectNoSecret(offline.stdout + offline.stderr, [value]);

    const online = await runCli(['verify', ...tok, '--format', 'json', tag], { env: baseEnv(box, { A_TOK: value }) });
    expect(online.code, online.stderr).toBe(4);
    const fromDaemon = JSON.parse(online.stdout) as VerifyResult;
    expect(fromFile.id).toBe(fromDaemon.id);
    expect(fromFile.hits.map((h) => h.where)).toEqual(fromDaemon.hits.map((h) => h.where));
    expect(fromFile.layerBytes).toBe(fromDaemon.layerBytes);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('the same file gzip-compressed (docker save | gzip): exit 4; a secret not in it: exit 0', async () => {
    const gz = `${file}.gz`;
    execFileSync('sh', ['-c', 'gzip -1 -c "$0" > "$1"', file, gz]);
    const env = noDockerEnv(box, { PATH: bin, A_TOK: value, B_TOK: `absent-${id}-value` });
    const leaky = await runCli(['verify', ...tok, '--archive', gz], { env });
    expect(leaky.code, leaky.stderr).toBe(4);
    expect(leaky.stdout).toMatch(/^LEAK secret "tok" \(env:A_TOK\) in layer 1 \S+ \(history\[\d+\]\): \/srv\/leak\.txt \[raw/m);
    const clean = await runCli(['verify', '--secret', 'id=other,from=env:B_TOK', '--archive', file], { env });
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/: clean; searched 3 layers/);
  });
});
