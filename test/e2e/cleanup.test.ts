/**
 * The cleanup matrix: after every way a run that reached docker can end, the
 * private secret root (SECBUILD_TMPDIR) is empty. Signals go to secbuild alone
 * (not its process group), as a CI runner or `kill` would send them. The runs
 * that end before docker (a failing provider, no docker binary) are in
 * test/cli/build.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { context, listDir, nonce, pidsMatching, runCli, sandbox, startCli, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';

const SECRET = `cleanup-${nonce()}-value`;

describeE2E('cleanup matrix', () => {
  const box = sandbox();
  const env = baseEnv(box, { E2E_TOKEN: SECRET });
  const ok = context('FROM $BASE\nRUN --mount=type=secret,id=tok wc -c /run/secrets/tok\n');
  const failing = context('FROM $BASE\nRUN --mount=type=secret,id=tok test ! -s /run/secrets/tok\n');
  const tags: string[] = [];
  afterAll(async () => {
    if (tags.length) await docker(['rmi', '-f', ...tags]);
    ok.cleanup();
    failing.cleanup();
    box.cleanup();
  });
  const secretArgs = ['--secret', 'id=tok,from=env:E2E_TOKEN'];

  test('success', async () => {
    const r = await runCli([...secretArgs, '--no-cache', ok.dir], { env });
    expect(r.code).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('a failing RUN: docker\'s exit code is passed through', async () => {
    const r = await runCli([...secretArgs, '--no-cache', failing.dir], { env });
    expect(r.code).toBe(1);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('an unreachable daemon: exit 2 before anything is written', async () => {
    const r = await runCli([...secretArgs, ok.dir], { env: { ...env, DOCKER_HOST: `unix://${join(box.dir, 'no.sock')}` } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^secbuild: no Docker daemon answers at unix:\/\/\S+no\.sock \(DOCKER_HOST\)/);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s during a RUN: forwarded, files removed, exit %i', async (signal, expected) => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const slow = context(`FROM $BASE\nRUN --mount=type=secret,id=tok sleep 3${marker}\n`);
    try {
      const run = startCli([...secretArgs, '--no-cache', slow.dir], { env });
      await waitFor('the RUN to start', () => pidsMatching(`sleep 3${marker}`).length > 0, 60_000);
      expect(listDir(box.tmp).length).toBe(1);
      run.child.kill(signal);
      const r = await run.done;
      expect(r.code).toBe(expected);
      expect(listDir(box.tmp)).toEqual([]);
      await waitFor('the RUN to stop', () => pidsMatching(`sleep 3${marker}`).length === 0, 15_000);
    } finally {
      slow.cleanup();
    }
  });

  test('SIGKILL of secbuild: the watchdog removes the files and stops the build within 5 s', async () => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const slow = context(`FROM $BASE\nRUN --mount=type=secret,id=tok sleep 4${marker}\n`);
    try {
      const run = startCli([...secretArgs, '--no-cache', slow.dir], { env });
      await waitFor('the RUN to start', () => pidsMatching(`sleep 4${marker}`).length > 0, 60_000);
      const dockerPids = pidsMatching(`--secret id=tok,src=${box.tmp}`);
      expect(dockerPids.length).toBe(1);
      run.child.kill('SIGKILL');
      await run.done;
      const tookFiles = await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
      const tookBuild = await waitFor('the orphaned build to stop', () => pidsMatching(`sleep 4${marker}`).length === 0 && pidsMatching(`--secret id=tok,src=${box.tmp}`).length === 0, 5_000 - tookFiles);
      expect(tookFiles + tookBuild).toBeLessThan(5_000);
    } finally {
      slow.cleanup();
    }
  });

  test('a stale run directory of a dead process is swept by the next run and by secbuild clean', async () => {
    const stale = join(box.tmp, 'secbuild-999999-AbCdEf');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(stale, { mode: 0o700 });
    writeFileSync(join(stale, '00-tok'), 'left behind');
    // A dead run's directory is not brand new: the sweep leaves one younger than 2 s alone (src/run/liveness.ts).
    const { utimesSync } = await import('node:fs');
    const past = new Date(Date.now() - 60_000);
    utimesSync(stale, past, past);
    const r = await runCli(['clean'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('secbuild-999999-AbCdEf');
    expect(listDir(box.tmp)).toEqual([]);
    mkdirSync(stale, { mode: 0o700 });
    utimesSync(stale, past, past);
    const b = await runCli([...secretArgs, ok.dir], { env });
    expect(b.code).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('10 concurrent builds each get their own secret and leave nothing behind', async () => {
    const ctx = context('FROM $BASE\nARG N\nRUN --mount=type=secret,id=tok echo $N >/dev/null && sha256sum /run/secrets/tok > /h\n');
    try {
      const runs = Array.from({ length: 10 }, (_, i) => {
        const tag = `secbuild-e2e/concurrent:${i}`;
        tags.push(tag);
        return runCli([...secretArgs, '--build-arg', `N=${i}-${nonce()}`, '-t', tag, ctx.dir], { env: { ...env, E2E_TOKEN: `${SECRET}-${i}` } });
      });
      const results = await Promise.all(runs);
      expect(results.map((r) => r.code)).toEqual(Array(10).fill(0));
      expect(listDir(box.tmp)).toEqual([]);
      const { createHash } = await import('node:crypto');
      for (let i = 0; i < 10; i++) {
        const out = (await docker(['run', '--rm', `secbuild-e2e/concurrent:${i}`, 'cat', '/h'])).stdout.toString();
        expect(out.split(/\s+/)[0]).toBe(createHash('sha256').update(`${SECRET}-${i}`).digest('hex'));
      }
    } finally {
      ctx.cleanup();
    }
  });
});
