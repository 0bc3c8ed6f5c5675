/**
 * `--engine podman` against Debian's real podman (4.3.1, buildah 1.28,
 * rootful): delivery (sha256 of each mounted secret inside the image, no
 * secret byte in `podman save` — both formats — or `podman history`), the
 * preflight, masking, the cleanup matrix (success, failing RUN, SIGINT,
 * SIGTERM, SIGKILL of secbuild) including what podman itself leaves when it
 * is stopped (the RUN's container and the working container holding
 * buildah's copy of the secret), verify and compose's direct engine.
 * Every build uses --network none (no iptables chains from CNI/netavark).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { VerifyResult } from '../../src/verify/scan.js';
import { containsBytes, context, expectNoSecret, listDir, nonce, pidsMatching, runCli, sandbox, startCli, tree, waitFor } from '../helpers/cli.js';
import { describeE2E } from '../helpers/e2e.js';
import { buildContainers, podman, PODMAN, podmanEnv, podmanProblem, podmanRun } from '../helpers/podman.js';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
describeE2E('podman engine', podmanProblem, () => {
  const box = sandbox();
  const id = nonce();
  const SECRET = `podman-${id}-Zq9 value`;
  const env = podmanEnv(box, { E2E_TOKEN: SECRET });
  const tok = ['--secret', 'id=tok,from=env:E2E_TOKEN'];
  const tags: string[] = [];
  const tag = (name: string) => {
    const t = `secbuild-e2e-podman-${name}:${id}`;
    tags.push(t);
    return t;
  };
  let before: string[] = [];
  beforeAll(async () => {
    before = await buildContainers();
  });
  afterAll(async () => {
    if (tags.length) await podman(['rmi', '-f', ...tags]);
    box.cleanup();
  });
  /** No build container this file started is left in podman's storage (each would hold buildah's secret copy). */
  const noLeftovers = async () => expect((await buildContainers()).filter((c) => !before.includes(c))).toEqual([]);

  describe('delivery', () => {
    const fileValue = Buffer.from([0x00, 0xff, 0x0a, 0x41, ...Buffer.from(`file-${id}`)]);
    const ghToken = `ghp_${id}TOKEN`;
    const image = tag('delivery');
    let ctx: ReturnType<typeof context>;
    let result: Awaited<ReturnType<typeof runCli>>;
    beforeAll(async () => {
      ctx = context(
        [
          'FROM $BASE',
          'RUN --mount=type=secret,id=tok --mount=type=secret,id=filetok --mount=type=secret,id=netrc,target=/root/.netrc --mount=type=secret,id=HOME \\',
          '    sha256sum /run/secrets/tok /run/secrets/filetok /root/.netrc /run/secrets/HOME > /hashes',
          '',
        ].join('\n'),
      );
      writeFileSync(join(box.dir, 'file-secret'), fileValue, { mode: 0o600 });
      writeFileSync(join(box.dir, 'home-secret'), 'named like a variable');
      result = await runCli(
        [
          '--network', 'none', '-t', image, ...tok,
          '--secret', `id=filetok,from=file:${join(box.dir, 'file-secret')}`,
          '--netrc', 'machine=github.com,login=x-access-token,password=env:E2E_GH_TOKEN',
          // An id that is also a variable of podman's environment: buildah would read the variable without type=file.
          '--secret', `id=HOME,src=${join(box.dir, 'home-secret')}`,
          ctx.dir,
        ],
        { env: { ...env, E2E_GH_TOKEN: ghToken } },
      );
    });
    afterAll(() => ctx?.cleanup());

    test('the build succeeds with podman, says where buildah keeps its copy, and leaves nothing behind', async () => {
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/buildah \(podman [\d.]+\) copies each mounted secret into its working container under \S+/);
      expect(listDir(box.tmp)).toEqual([]);
      await noLeftovers();
    });

    test('every mounted secret arrives byte-exact', async () => {
      const out = (await podmanRun(image, ['cat', '/hashes'])).stdout.toString();
      const hashes = Object.fromEntries(out.trim().split('\n').map((l) => l.split(/\s+/).reverse()));
      expect(hashes['/run/secrets/tok']).toBe(sha(SECRET));
      expect(hashes['/run/secrets/filetok']).toBe(sha(fileValue));
      expect(hashes['/root/.netrc']).toBe(sha(`machine github.com\n  login x-access-token\n  password ${ghToken}\n`));
      expect(hashes['/run/secrets/HOME']).toBe(sha('named like a variable'));
    });

    test.each(['docker-archive', 'oci-archive'])('no secret byte in podman save --format %s, podman history or secbuild output', async (format) => {
      const saved = await podman(['save', '--format', format, image]);
      expect(saved.code).toBe(0);
      for (const v of [SECRET, ghToken]) expect(containsBytes(saved.stdout, Buffer.from(v))).toBe(false);
      expect(containsBytes(saved.stdout, fileValue)).toBe(false);
      const history = await podman(['history', '--no-trunc', image]);
      expectNoSecret(history.stdout.toString() + result.stdout + result.stderr, [SECRET, ghToken]);
    });
  });

  test('--dry-run prints the podman command with its TMPDIR inside the run directory and type=file secrets', async () => {
    const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
    try {
      const r = await runCli(['--dry-run', ...tok, '-t', 'x', ctx.dir], { env });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^TMPDIR=${box.tmp}/secbuild-\\S+/tmp-1 \\S*podman build --secret id=tok,src=${box.tmp}/secbuild-\\S+/00-tok,type=file -t x `, 'm'));
    } finally {
      ctx.cleanup();
    }
  });

  test('without --engine and with no docker CLI on PATH, secbuild uses podman and says so in one line', async () => {
    const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok true\n');
    const bin = join(box.dir, 'only-podman');
    const { mkdirSync, symlinkSync } = await import('node:fs');
    mkdirSync(bin);
    symlinkSync(PODMAN, join(bin, 'podman'));
    const { SECBUILD_ENGINE: _e, SECBUILD_PODMAN: _p, SECBUILD_DOCKER: _d, ...rest } = env;
    try {
      const r = await runCli(['--dry-run', ...tok, '-t', 'x', ctx.dir], { env: { ...rest, PATH: bin } });
      expect(r.code).toBe(0);
      expect(r.stderr.match(/engine: podman \(\/\S+podman\), as no docker CLI is on PATH/g)).toHaveLength(1);
      expect(r.stdout).toMatch(/^TMPDIR=\S+ \S+podman build --secret id=tok,/m);
    } finally {
      ctx.cleanup();
    }
  });

  test('the build-arg guard refuses a --build-arg carrying a secret before podman runs (exit 4)', async () => {
    const ctx = context('FROM $BASE\nARG T\nRUN true\n');
    try {
      const r = await runCli([...tok, '--build-arg', `T=${SECRET}`, ctx.dir], { env });
      expect(r.code).toBe(4);
      expectNoSecret(r.stdout + r.stderr, [SECRET]);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });

  test('preflight: a RUN mounting an id that was not given stops the build, exit 2, naming the line', async () => {
    const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=nothere cat /run/secrets/nothere\n');
    try {
      const r = await runCli(['--network', 'none', ...tok, ctx.dir], { env });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Dockerfile:2.*"nothere"/);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });

  test('masking: a RUN printing the secret shows *** in a piped log; the report names podman', async () => {
    const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok cat /run/secrets/tok && echo && echo "token=$(cat /run/secrets/tok)!"\n');
    const report = join(box.dir, 'mask-report.json');
    try {
      const r = await runCli(['--network', 'none', '--no-cache', '--report', report, ...tok, ctx.dir], { env });
      expect(r.code).toBe(0);
      expectNoSecret(r.stdout + r.stderr, [SECRET]);
      expect(r.stdout + r.stderr).toMatch(/token=\*\*\*!/);
      const rep = JSON.parse((await import('node:fs')).readFileSync(report, 'utf8'));
      expect(rep.engine).toMatchObject({ kind: 'podman', rootless: false });
      expect(rep.dockerArgv[0]).toMatch(/podman$/);
      expect(rep.masking.occurrences.tok).toBeGreaterThanOrEqual(2);
    } finally {
      ctx.cleanup();
    }
  });

  describe('cleanup matrix', () => {
    test('a failing RUN: podman\'s exit code is passed through, nothing left', async () => {
      const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok test ! -s /run/secrets/tok\n');
      try {
        const r = await runCli(['--network', 'none', '--no-cache', ...tok, ctx.dir], { env });
        expect(r.code).toBe(1);
        expect(listDir(box.tmp)).toEqual([]);
        await noLeftovers();
      } finally {
        ctx.cleanup();
      }
    });

    test.each([
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const)('%s during a RUN: forwarded, the RUN stopped, no working container, files removed, exit %i', async (signal, expected) => {
      const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
      const slow = context(`FROM $BASE\nRUN --mount=type=secret,id=tok sleep 3${marker}\n`);
      try {
        const run = startCli(['--network', 'none', '--no-cache', ...tok, slow.dir], { env });
        await waitFor('the RUN to start', () => pidsMatching(`sleep 3${marker}`).length > 0, 60_000);
        run.child.kill(signal);
        const r = await run.done;
        expect(r.code).toBe(expected);
        expect(listDir(box.tmp)).toEqual([]);
        expect(pidsMatching(`sleep 3${marker}`)).toEqual([]);
        await noLeftovers();
      } finally {
        slow.cleanup();
      }
    });

    test('SIGKILL of secbuild: the watchdog stops the orphaned podman build and its RUN within 5 s and removes its working container', async () => {
      const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
      const slow = context(`FROM $BASE\nRUN --mount=type=secret,id=tok sleep 4${marker}\n`);
      try {
        const run = startCli(['--network', 'none', '--no-cache', ...tok, slow.dir], { env });
        await waitFor('the RUN to start', () => pidsMatching(`sleep 4${marker}`).length > 0, 60_000);
        expect(pidsMatching(`--secret id=tok,src=${box.tmp}`).length).toBe(1);
        run.child.kill('SIGKILL');
        await run.done;
        const took = await waitFor(
          'the files, podman build and the RUN to go',
          () => listDir(box.tmp).length === 0 && pidsMatching(`sleep 4${marker}`).length === 0 && pidsMatching(`--secret id=tok,src=${box.tmp}`).length === 0,
          5_000,
        );
        expect(took).toBeLessThan(5_000);
        await waitFor('the working container to go', async () => (await buildContainers()).every((c) => before.includes(c)), 5_000);
      } finally {
        slow.cleanup();
      }
    });
  });

  describe('verify', () => {
    const clean = tag('clean');
    const leaky = tag('leaky');
    beforeAll(async () => {
      const ok = context('FROM $BASE\nRUN --mount=type=secret,id=tok wc -c /run/secrets/tok > /n\n');
      const bad = context('FROM $BASE\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /leak\n');
      try {
        for (const [dir, t] of [[ok.dir, clean], [bad.dir, leaky]] as const) {
          expect((await runCli(['--network', 'none', '-t', t, ...tok, dir], { env })).code).toBe(0);
        }
      } finally {
        ok.cleanup();
        bad.cleanup();
      }
    });

    test('secbuild verify IMAGE through podman save: clean → 0, a copied secret → 4 naming the layer file', async () => {
      const good = await runCli(['verify', ...tok, '--format', 'json', clean], { env });
      expect(good.code).toBe(0);
      const g = JSON.parse(good.stdout) as VerifyResult;
      expect(g.layers).toBeGreaterThanOrEqual(2);
      expect(g.historyEntries).toBeGreaterThanOrEqual(2);
      const bad = await runCli(['verify', ...tok, leaky], { env });
      expect(bad.code).toBe(4);
      expect(bad.stdout).toMatch(/secret "tok" \(env:E2E_TOKEN\) in layer \d+ .*: \/?leak/);
      expectNoSecret(bad.stdout + bad.stderr, [SECRET]);
    });

    test.each(['docker-archive', 'oci-archive'])('the archive scanner reads podman save --format %s whole and finds the copied secret', async (format) => {
      const [{ spawn }, { scanArchive, incompleteScan }, { Search }, { patternsFor }] = await Promise.all([
        import('node:child_process'), import('../../src/verify/save.js'), import('../../src/verify/search.js'), import('../../src/secrets/forms.js'),
      ]);
      const child = spawn(PODMAN, ['save', '--format', format, leaky], { stdio: ['ignore', 'pipe', 'ignore'] });
      const search = new Search(patternsFor([{ id: 'tok', value: Buffer.from(SECRET) }]));
      const scan = await scanArchive(child.stdout!, search);
      expect(incompleteScan(scan)).toBeUndefined();
      expect(scan.layout.layerCount).toBeGreaterThanOrEqual(2);
      expect(search.hits.map((h) => [h.secret, h.place.kind === 'layer' && h.place.path.replace(/^\//, '')])).toEqual([['tok', 'leak']]);
    });

    test('build --verify with podman fails with exit 4 on the image it just built', async () => {
      const bad = context('FROM $BASE\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /leak2\n');
      try {
        const r = await runCli(['--verify', '--network', 'none', '-t', tag('leaky2'), ...tok, bad.dir], { env });
        expect(r.code).toBe(4);
        expect(r.stderr).toMatch(/verify: LEAK secret "tok" \(env:E2E_TOKEN\) in layer \d+ .*\/leak2/);
        expect(listDir(box.tmp)).toEqual([]);
      } finally {
        bad.cleanup();
      }
    });
  });

  test('compose build with podman: the direct engine, one podman build per service in depends_on order', async () => {
    const api = tag('api');
    const base = tag('base');
    const project = tree({
      'compose.yaml': [
        'services:',
        '  api:',
        `    image: ${api}`,
        '    depends_on: [base]',
        '    build: { context: ./api, network: none, secrets: [tok] }',
        '  base:',
        `    image: ${base}`,
        '    build: { context: ./base, network: none, secrets: [tok] }',
        'secrets:',
        '  tok: { environment: E2E_TOKEN }',
        '',
      ].join('\n'),
      'api/Dockerfile': 'FROM secbuild-test/busybox:local\nRUN --mount=type=secret,id=tok sha256sum /run/secrets/tok > /h\n',
      'base/Dockerfile': 'FROM secbuild-test/busybox:local\nRUN --mount=type=secret,id=tok test -s /run/secrets/tok\n',
    });
    try {
      const r = await runCli(['compose', '-f', join(project.dir, 'compose.yaml'), 'build'], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/compose engine: direct \(podman builds each service/);
      expect(r.stderr.indexOf('building service "base"')).toBeLessThan(r.stderr.indexOf('building service "api"'));
      expect((await podmanRun(api, ['cat', '/h'])).stdout.toString().split(/\s+/)[0]).toBe(sha(SECRET));
      expect(listDir(box.tmp)).toEqual([]);
      const forced = await runCli(['compose', '-f', join(project.dir, 'compose.yaml'), 'build', '--engine', 'compose'], { env });
      expect(forced.code).toBe(2);
      expect(forced.stderr).toMatch(/--engine compose builds through `docker compose`/);
    } finally {
      project.cleanup();
    }
  });
});
