/**
 * Delivery without leaking: every provider kind and every credential template
 * reaches the RUN that mounts it byte-exact (sha256 stored in the image and
 * compared here), and the secret bytes appear nowhere in `docker save` or
 * `docker history --no-trunc`, nor in secbuild's own output.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { containsBytes, context, listDir, nonce, runCli, sandbox } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describeE2E('delivery', () => {
  const box = sandbox();
  const id = nonce();
  const tag = `secbuild-e2e/delivery:${id}`;
  // Values chosen to catch trimming and re-encoding: binary bytes, trailing newline, spaces.
  const envValue = `env-${id}-value with spaces\n`;
  const fileValue = Buffer.from([0x00, 0xff, 0xfe, 0x0a, 0x41, 0x0d, 0x0a, ...Buffer.from(`file-${id}`)]);
  const cmdValue = `cmd-${id}`;
  const ghToken = `ghp_${id}TOKEN`;
  const npmToken = `npm_${id}TOKEN`;
  let ctx: ReturnType<typeof context>;
  let result: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    ctx = context(
      [
        'FROM $BASE',
        `RUN --mount=type=secret,id=envtok --mount=type=secret,id=filetok --mount=type=secret,id=cmdtok \\`,
        `    --mount=type=secret,id=netrc,target=/root/.netrc --mount=type=secret,id=npmrc \\`,
        `    --mount=type=secret,id=dockerform \\`,
        `    echo ${id} >/dev/null && sha256sum /run/secrets/envtok /run/secrets/filetok /run/secrets/cmdtok /root/.netrc /run/secrets/npmrc /run/secrets/dockerform > /hashes`,
        '',
      ].join('\n'),
    );
    const secretFile = join(box.dir, 'file-secret');
    writeFileSync(secretFile, fileValue, { mode: 0o600 });
    writeFileSync(join(box.dir, 'docker-form'), 'docker-form-value');
    result = await runCli(
      [
        '-t', tag, '--progress=plain',
        '--secret', 'id=envtok,from=env:E2E_ENV_TOKEN',
        '--secret', `id=filetok,from=file:${secretFile}`,
        '--secret', `id=cmdtok,from=cmd:printf '%s\\n\\n' ${cmdValue}`,
        '--secret', `id=dockerform,src=${join(box.dir, 'docker-form')}`,
        '--netrc', 'machine=github.com,login=x-access-token,password=env:E2E_GH_TOKEN',
        '--npmrc', 'registry=https://npm.pkg.github.com/,token=env:E2E_NPM_TOKEN,scope=@acme',
        ctx.dir,
      ],
      { env: baseEnv(box, { E2E_ENV_TOKEN: envValue, E2E_GH_TOKEN: ghToken, E2E_NPM_TOKEN: npmToken }) },
    );
  });
  afterAll(async () => {
    await docker(['rmi', '-f', tag]);
    ctx?.cleanup();
    box.cleanup();
  });

  test('the build succeeds and leaves the secret root empty', () => {
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('every mounted secret arrives byte-exact', async () => {
    const out = (await docker(['run', '--rm', tag, 'cat', '/hashes'])).stdout.toString();
    const hashes = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/\s+/).reverse()));
    expect(hashes['/run/secrets/envtok']).toBe(sha(envValue));
    expect(hashes['/run/secrets/filetok']).toBe(sha(fileValue));
    expect(hashes['/run/secrets/cmdtok']).toBe(sha(cmdValue)); // trailing newlines removed, as $(...) does
    expect(hashes['/run/secrets/dockerform']).toBe(sha('docker-form-value'));
    expect(hashes['/root/.netrc']).toBe(sha(`machine github.com\n  login x-access-token\n  password ${ghToken}\n`));
    expect(hashes['/run/secrets/npmrc']).toBe(sha(`@acme:registry=https://npm.pkg.github.com/\n//npm.pkg.github.com/:_authToken=${npmToken}\n`));
  });

  test('no secret byte reaches the image, its history or secbuild output', async () => {
    const saved = (await docker(['save', tag])).stdout;
    const history = (await docker(['history', '--no-trunc', tag])).stdout;
    expect(saved.length).toBeGreaterThan(1000);
    const output = Buffer.from(result.stdout + result.stderr);
    for (const v of [envValue.trim(), `file-${id}`, cmdValue, ghToken, npmToken]) {
      expect(containsBytes(saved, Buffer.from(v)), `image contains ${v.slice(0, 8)}…`).toBe(false);
      expect(containsBytes(history, Buffer.from(v))).toBe(false);
      expect(containsBytes(output, Buffer.from(v))).toBe(false);
    }
    // Sanity: the scan does find what is in the image.
    expect(containsBytes(saved, Buffer.from(sha(cmdValue)))).toBe(true);
  });
});
