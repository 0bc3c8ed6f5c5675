/**
 * `secbuild verify` and `secbuild build --verify` against the real daemon.
 *
 * One leaky image holds the classic leaks, each of a different secret so each
 * hit can be attributed: a secret mount copied into a layer, `COPY .netrc`,
 * `ARG TOKEN` + `RUN echo $TOKEN > /f`, an `ENV` from a build-arg, and the
 * base64 of a secret in a `LABEL`. It is built with raw docker (secbuild
 * would refuse the secret build-args and the copied .netrc). verify must find
 * each one in the right layer or config field and never print a value. The
 * clean secret-mount image, built with `secbuild build --verify`, verifies
 * clean; `build --verify` of a leaky Dockerfile fails with 4.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { VerifyResult } from '../../src/verify/scan.js';
import { BASE, context, listDir, nonce, pidsMatching, runCli, sandbox, type RunResult } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

describeE2E('verify', () => {
  const box = sandbox();
  const id = nonce();
  const leakyTag = `secbuild-e2e/verify-leaky:${id}`;
  const cleanTag = `secbuild-e2e/verify-clean:${id}`;
  const values = {
    mnt: `mnt-${id}-MOUNTED`,
    gh: `ghp_${id}NETRC`,
    argtok: `arg-${id}-BUILDARG`,
    envtok: `env-${id}-ENVIRONMENT`,
    lbl: `lbl-${id}-LABELLED`,
  };
  const env = baseEnv(box, { V_GH: values.gh, V_ARG: values.argtok, V_ENV: values.envtok, V_LBL: values.lbl });
  const mntFile = join(box.dir, 'mnt');
  const secretFlags = [
    '--secret', `id=mnt,from=file:${mntFile}`,
    '--secret', 'id=argtok,from=env:V_ARG',
    '--secret', 'id=envtok,from=env:V_ENV',
    '--secret', 'id=lbl,from=env:V_LBL',
    '--secret', 'id=gh,from=env:V_GH',
    '--netrc', 'machine=github.com,login=x-access-token,password=gh',
  ];
  const contexts: Array<{ cleanup: () => void }> = [];
  const images: string[] = [leakyTag, cleanTag];
  let leaky: RunResult;
  let leakyJson: VerifyResult;
  let diffIds: string[];
  const allValues = () => [...Object.values(values), Buffer.from(values.lbl).toString('base64')];

  beforeAll(async () => {
    writeFileSync(mntFile, values.mnt, { mode: 0o600 });
    const ctx = context(
      [
        'FROM $BASE',
        // The nonce keeps BuildKit from reusing a cached layer: secret values are not part of its cache key.
        `RUN --mount=type=secret,id=mnt echo ${id} >/dev/null && cp /run/secrets/mnt /copied`,
        'COPY .netrc /root/.netrc',
        'ARG TOKEN',
        `RUN echo ${id} >/dev/null && echo $TOKEN > /f`,
        'ARG ENVTOK',
        'ENV API_KEY=$ENVTOK',
        'ARG B64',
        'LABEL org.example.leak=$B64',
        '',
      ].join('\n'),
      { '.netrc': `machine github.com\n  login x-access-token\n  password ${values.gh}\n` },
    );
    contexts.push(ctx);
    const built = await docker([
      'build', '-q', '-t', leakyTag, '--secret', `id=mnt,src=${mntFile}`,
      '--build-arg', `TOKEN=${values.argtok}`, '--build-arg', `ENVTOK=${values.envtok}`,
      '--build-arg', `B64=${Buffer.from(values.lbl).toString('base64')}`, ctx.dir,
    ]);
    expect(built.code, built.stderr).toBe(0);
    diffIds = JSON.parse((await docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', leakyTag])).stdout.toString());
    [leaky, leakyJson] = await Promise.all([
      runCli(['verify', ...secretFlags, leakyTag], { env }),
      runCli(['verify', '--format', 'json', ...secretFlags, leakyTag], { env }).then((r) => {
        expect(r.code, r.stderr).toBe(4);
        return JSON.parse(r.stdout) as VerifyResult;
      }),
    ]);
  });
  afterAll(async () => {
    await docker(['rmi', '-f', ...images]);
    for (const c of contexts) c.cleanup();
    box.cleanup();
  });

  test('the leaky image fails with exit 4, and nothing printed holds a value', () => {
    expect(leaky.code, leaky.stderr).toBe(4);
    expect(leaky.stdout).toMatch(/LEAK secret "mnt"/);
    for (const v of allValues()) {
      expect(leaky.stdout + leaky.stderr).not.toContain(v);
      expect(JSON.stringify(leakyJson)).not.toContain(v);
    }
    expect(leaky.stdout).toMatch(new RegExp(`${leakyTag.replace(/[/.:]/g, '\\$&')} \\(sha256:[0-9a-f]{64}\\): \\d+ leaks of 5 secrets; searched 4 layers \\([\\d.]+ MB of layer data, \\d+ files\\).* in [\\d.]+ s \\(\\d+ MB/s\\)`));
  });

  test('each leak in a layer is named by the right layer, digest and file', () => {
    const inLayers = leakyJson.hits.filter((h) => h.in === 'layer').map((h) => [h.secret, h.layer?.index, h.path, h.part]);
    // Layer 0 is the base image; then one layer per RUN/COPY, in Dockerfile order.
    expect(inLayers).toEqual([
      ['mnt', 1, '/copied', 'content'],
      ['gh', 2, '/root/.netrc', 'content'],
      ['argtok', 3, '/f', 'content'],
    ]);
    for (const h of leakyJson.hits.filter((x) => x.in === 'layer')) expect(h.layer?.digest).toBe(diffIds[h.layer!.index!]);
    expect(leakyJson.layers).toBe(4);
  });

  test('ENV, LABEL and the build-arg are found in the image config, by field', () => {
    const config = leakyJson.hits.filter((h) => h.in === 'config').map((h) => [h.secret, h.field, h.forms.join()]);
    expect(config).toEqual(expect.arrayContaining([
      ['envtok', expect.stringMatching(/^config\.Env\[\d+\]$/), 'raw'],
      ['lbl', 'config.Labels["org.example.leak"]', 'base64'],
      ['argtok', expect.stringMatching(/^history\[\d+\]\.created_by$/), 'raw'],
      ['envtok', expect.stringMatching(/^history\[\d+\]\.created_by$/), 'raw'],
    ]));
    // Nothing leaked through a mount or COPY reaches the config.
    expect(config.filter(([s]) => s === 'mnt' || s === 'gh')).toEqual([]);
  });

  test("the archive is read from the daemon's socket, and through `docker save` (SECBUILD_VERIFY_VIA=cli) gives the same hits", async () => {
    const [api, cli] = await Promise.all([
      runCli(['verify', '--format', 'json', ...secretFlags, leakyTag], { env: { ...env, SECBUILD_DEBUG: '1' } }),
      runCli(['verify', '--format', 'json', ...secretFlags, leakyTag], { env: { ...env, SECBUILD_DEBUG: '1', SECBUILD_VERIFY_VIA: 'cli' } }),
    ]);
    expect(api.stderr).toMatch(/verify: reading the daemon's export of .* \(GET \/images\/get on unix:\/\//);
    expect(cli.stderr).toMatch(/verify: reading `\S*docker save /);
    expect(api.code, api.stderr).toBe(4);
    expect(cli.code, cli.stderr).toBe(4);
    const hits = (r: RunResult) => (JSON.parse(r.stdout) as VerifyResult).hits.map((h) => h.where).sort();
    expect(hits(api)).toEqual(hits(cli));
    expect(hits(api)).toEqual(leakyJson.hits.map((h) => h.where).sort());
    expect((JSON.parse(api.stdout) as VerifyResult).archiveBytes).toBe((JSON.parse(cli.stdout) as VerifyResult).archiveBytes);
  });

  test("stand-in daemon socket: an export of another image than the one inspect pinned is exit 2, never clean", async () => {
    // DOCKER_HOST names a stand-in that passes every request to the real daemon but answers
    // GET /images/get with the archive of another image (the base image, which holds no secret).
    const other = await docker(['save', BASE]);
    expect(other.code, other.stderr).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'sb-standin-'));
    const path = join(dir, 'd.sock');
    const asked: string[] = [];
    const server = createServer((c) => {
      let head = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        head = Buffer.concat([head, d]);
        const text = head.toString('latin1');
        if (!text.includes('\r\n\r\n')) return;
        c.off('data', onData);
        if (text.startsWith('GET /images/get')) {
          asked.push(text.split('\r\n')[0]!);
          c.end(Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\nContent-Type: application/x-tar\r\n\r\n'), other.stdout]));
          return;
        }
        const up = connect('/var/run/docker.sock');
        up.write(head);
        c.pipe(up).pipe(c);
        up.on('error', () => c.destroy());
      };
      c.on('data', onData);
      c.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const r = await runCli(['verify', ...secretFlags, leakyTag], { env: { ...env, DOCKER_HOST: `unix://${path}` } });
      expect(asked).toHaveLength(1);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/changed while it was verified \(the daemon's export of .* gave another image than the sha256:[0-9a-f]{64} image inspect named\)/);
      // Running it again would read the same socket: the way out is named.
      expect(r.stderr).toContain(`another daemon than unix://${path}, set SECBUILD_VERIFY_VIA=cli`);
      for (const v of allValues()) expect(r.stdout + r.stderr).not.toContain(v);
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('docker history --no-trunc is searched too', () => {
    const history = leakyJson.hits.filter((h) => h.in === 'history').map((h) => [h.secret, h.field]);
    expect(history).toEqual(expect.arrayContaining([['argtok', 'CreatedBy'], ['envtok', 'CreatedBy'], ['lbl', 'CreatedBy']]));
  });

  test('build --verify: a clean secret-mount build passes, and verify finds it clean', async () => {
    const ctx = context(`FROM $BASE\nRUN --mount=type=secret,id=tok echo ${id} >/dev/null && sha256sum /run/secrets/tok > /hash\n`);
    contexts.push(ctx);
    const report = join(box.dir, 'clean-report.json');
    const run = await runCli(['build', '--verify', '--report', report, '-q', '-t', cleanTag, '--secret', 'id=tok,from=env:V_ARG', ctx.dir], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/verify: .*: clean; searched 2 layers/);
    expect(listDir(box.tmp)).toEqual([]);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r.verify).toMatchObject({ clean: true, hits: [], layers: 2 });
    expect(r.dockerArgv).toContain('--iidfile');

    const again = await runCli(['verify', '--secret', 'id=tok,from=env:V_ARG', cleanTag], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/: clean; searched 2 layers/);
  });

  test('build --verify: a secret mount copied into the image fails with 4, the secret root left empty', async () => {
    const ctx = context(`FROM $BASE\nRUN --mount=type=secret,id=tok echo ${id} >/dev/null && cp /run/secrets/tok /leak\n`);
    contexts.push(ctx);
    const iidfile = join(box.dir, 'leaky.iid');
    const report = join(box.dir, 'leaky-report.json');
    // No tag: the user's own --iidfile names the image.
    const run = await runCli(['build', '--verify', '--report', report, '-q', '--iidfile', iidfile, '--secret', 'id=tok,from=env:V_ARG', ctx.dir], { env });
    images.push(readFileSync(iidfile, 'utf8').trim());
    expect(run.code, run.stderr).toBe(4);
    expect(run.stderr).toMatch(/verify: LEAK secret "tok" \(env:V_ARG\) in layer 1 sha256:[0-9a-f]{64} \(history\[1\]\): \/leak/);
    expect(run.stderr).toMatch(/--verify: the image just built \(sha256:[0-9a-f]{64}\) holds secret values in 1 place/);
    expect(run.stdout + run.stderr).not.toContain(values.argtok);
    expect(listDir(box.tmp)).toEqual([]);
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r.exitCode).toBe(4);
    expect(r.verify.hits.map((h: { path: string }) => h.path)).toEqual(['/leak']);
    // The user's --iidfile is used, none is added.
    expect(r.dockerArgv.filter((a: string) => a === '--iidfile')).toHaveLength(1);
    expect(JSON.stringify(r)).not.toContain(values.argtok);
  });

  test('an image that does not exist is a usage error (exit 2)', async () => {
    const run = await runCli(['verify', '--secret', 'id=tok,from=env:V_ARG', `secbuild-e2e/missing:${id}`], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/image "secbuild-e2e\/missing:\w+" is not in the local image store/);
  });

  // docker save starts while the secrets resolve (src/verify/scan.ts); the secrets' error still comes first.
  test('a secret that cannot be resolved and an image that does not exist: exit 3, and no docker save is left', async () => {
    const run = await runCli(['verify', '--secret', 'id=tok,from=env:V_UNSET_NOWHERE', `secbuild-e2e/missing:${id}`], { env });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/V_UNSET_NOWHERE/);
    expect(run.stderr).not.toMatch(/not in the local image store/);
    expect(pidsMatching(`save secbuild-e2e/missing:${id}`)).toEqual([]);
  });
});

// Issue 22 item 10: an archive under ~80 KiB (a FROM scratch image with a small file) was drained
// by Node before the scan read it: "docker save printed nothing", exit 2, every time.
describeE2E('verify of a tiny image (FROM scratch, one small file)', () => {
  const box = sandbox();
  const id = nonce();
  const tag = `secbuild-verify-tiny:${id}`;
  const value = `tiny-${id}-PLANTED`;
  const env = baseEnv(box, { V_IN: value, V_OUT: `absent-${id}-NOWHERE` });
  let ctx: { dir: string; cleanup: () => void };

  beforeAll(async () => {
    ctx = context('FROM scratch\nCOPY app.conf /app.conf\n', { 'app.conf': `token=${value}\n` });
    const built = await docker(['build', '-q', '-t', tag, ctx.dir]);
    expect(built.code, built.stderr).toBe(0);
    const saved = await docker(['save', tag]);
    expect(saved.stdout.length).toBeLessThan(80 << 10);
  });
  afterAll(async () => {
    await docker(['rmi', '-f', tag]);
    ctx?.cleanup();
    box.cleanup();
  });

  test('a secret that is not in it: clean, exit 0', async () => {
    const run = await runCli(['verify', '--secret', 'id=out,from=env:V_OUT', tag], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/: clean; searched 1 layer/);
  });

  test('a secret that is in it: found in /app.conf, exit 4, the value never printed', async () => {
    const run = await runCli(['verify', '--format', 'json', '--secret', 'id=in,from=env:V_IN', tag], { env });
    expect(run.code, run.stderr).toBe(4);
    const r = JSON.parse(run.stdout) as VerifyResult;
    expect(r.hits.map((h) => [h.secret, h.in, h.layer?.index, h.path, h.part])).toEqual([['in', 'layer', 0, '/app.conf', 'content']]);
    expect(run.stdout + run.stderr).not.toContain(value);
  });
});
