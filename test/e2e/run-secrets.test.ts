/**
 * `secbuild run` against the real daemon (issue 26): the secret reaches the
 * container as a read-only file at /run/secrets/ID and nowhere else (not in
 * `docker inspect`), and the run directory is empty whenever the container
 * is done with it — after a foreground run, --rm, SIGINT and SIGKILL of
 * secbuild (the container stopped too, although its PID 1, sh, ignores the
 * signals docker forwards), and with -d once the container is removed; a
 * `docker restart` in between reads the secret again. One image (the local
 * busybox), containers named secbuild-runtime-*.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, inject, test } from 'vitest';
import { BASE, listDir, nonce, ROOT, runCli, sandbox, sh, startCli, tree, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker, DOCKER } from '../helpers/e2e.js';
import { composeV2 } from '../helpers/engines.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describeE2E('secbuild run: run-time secrets from a private tmpfs file', () => {
  const box = sandbox('secbuild-runtime-');
  const names: string[] = [];
  const name = () => {
    const n = `secbuild-runtime-${nonce()}`;
    names.push(n);
    return n;
  };
  afterAll(async () => {
    if (names.length) await docker(['rm', '-f', ...names]);
    box.cleanup();
  });
  const value = `rt-${nonce()}-value`;
  const env = baseEnv(box, { DB_PASSWORD: value });
  const secret = ['--secret', 'id=db,from=env:DB_PASSWORD'];
  const state = async (n: string) => (await docker(['inspect', '--format', '{{.State.Status}}', n])).stdout.toString().trim() || 'gone';
  const running = (n: string) => async () => (await state(n)) === 'running';

  test('foreground: the service reads /run/secrets/db (its hash matches), read-only; docker inspect holds no value; the root is empty after', async () => {
    const n = name();
    const r = await runCli(['run', ...secret, '--name', n, BASE, 'sh', '-c', 'sha256sum /run/secrets/db; echo x > /run/secrets/db || echo read-only; env | grep -c rt- || true'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${sha(value)}  /run/secrets/db`);
    expect(r.stdout).toContain('read-only');
    expect(r.stdout).toMatch(/^0$/m);
    const inspect = await docker(['inspect', n]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout.toString()).not.toContain(value);
    expect(inspect.stdout.toString()).toContain('"Destination": "/run/secrets/db"');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--user 1000 reads its secret given uid=1000,mode=0400 (without them the 0600 root-owned file is unreadable); the root is empty after', async () => {
    const n = `secbuild-runtime2-${nonce()}`;
    names.push(n);
    const read = ['sh', '-c', 'sha256sum /run/secrets/db 2>&1; stat -c "%u %a" /run/secrets/db'];
    const denied = await runCli(['run', ...secret, '--rm', '--user', '1000', BASE, ...read], { env });
    expect(denied.stdout).toMatch(/Permission denied/);
    const r = await runCli(['run', '--secret', 'id=db,from=env:DB_PASSWORD,uid=1000,mode=0400', '--user', '1000', '--name', n, BASE, ...read], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${sha(value)}  /run/secrets/db`);
    expect(r.stdout).toMatch(/^1000 400$/m);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('-e VAR=VALUE carrying the secret is refused (exit 4) before docker creates a container', async () => {
    const n = `secbuild-runtime2-${nonce()}`;
    names.push(n);
    const r = await runCli(['run', ...secret, '-e', `PW=${value}`, '--name', n, BASE, 'true'], { env });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/--env PW carries secret "db".*--secret id=db,from=env:DB_PASSWORD, read in the container at \/run\/secrets\/db/);
    expect(r.stderr).not.toContain(value);
    expect(await state(n)).toBe('gone');
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--rm: docker removes the container, secbuild the file; output to a log is masked; --report has the argv, no value', async () => {
    const n = name();
    const report = join(box.dir, `report-${n}.json`);
    const r = await runCli(['run', ...secret, '--report', report, '--rm', '--name', n, BASE, 'cat', '/run/secrets/db'], { env: { ...env, CI: 'true' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(value);
    expect(r.stdout).toContain('***');
    const text = readFileSync(report, 'utf8');
    expect(text).not.toContain(value);
    expect(JSON.parse(text)).toMatchObject({ command: 'run', runs: [{ argv: expect.arrayContaining(['--rm', BASE]), exitCode: 0 }], secrets: [{ id: 'db' }] });
    expect(await state(n)).toBe('gone');
    expect(listDir(box.tmp)).toEqual([]);
  });

  for (const sig of ['SIGINT', 'SIGKILL'] as const) {
    test(`${sig} of secbuild: the container is stopped (its sh ignores the signal) and the root is empty`, async () => {
      const n = name();
      const { child, done } = startCli(['run', ...secret, '--name', n, BASE, 'sh', '-c', 'while :; do sleep 1; done'], { env });
      await waitFor(`${n} running`, running(n), 20_000, 100);
      expect(listDir(box.tmp)).toHaveLength(1);
      child.kill(sig);
      const r = await done;
      if (sig === 'SIGINT') expect(r.code, r.stderr).toBe(130);
      await waitFor(`${n} stopped`, async () => (await state(n)) !== 'running', 20_000, 100);
      await waitFor('the root empty', () => listDir(box.tmp).length === 0, 20_000, 100);
    }, 40_000);
  }

  test('-d: a keeper holds the file while the container exists (docker restart reads it again, clean leaves it); docker rm removes it', async () => {
    const n = name();
    const r = await runCli(['run', ...secret, '-d', '--name', n, BASE, 'sh', '-c', 'while :; do sleep 1; done'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(r.stderr).toMatch(/the secret files stay in .* while the container exists \(keeper pid \d+\)/);
    expect(listDir(box.tmp)).toHaveLength(1);
    expect((await docker(['restart', '-t', '0', n])).code).toBe(0);
    expect((await docker(['exec', n, 'sha256sum', '/run/secrets/db'])).stdout.toString()).toContain(sha(value));
    expect((await runCli(['clean'], { env })).code).toBe(0);
    expect(listDir(box.tmp)).toHaveLength(1);
    expect((await docker(['inspect', n])).stdout.toString()).not.toContain(value);
    expect((await docker(['rm', '-f', n])).code).toBe(0);
    await waitFor('the keeper to remove the run directory', () => listDir(box.tmp).length === 0, 15_000, 100);
  }, 40_000);

  test('-d --rm: the container exits, docker removes it, the keeper the file', async () => {
    const r = await runCli(['run', ...secret, '-d', '--rm', '--name', name(), BASE, 'cat', '/run/secrets/db'], { env });
    expect(r.code, r.stderr).toBe(0);
    await waitFor('the keeper to remove the run directory', () => listDir(box.tmp).length === 0, 15_000, 100);
  }, 30_000);
});

describeE2E('secbuild compose up/down: run-time secrets with the real Compose v2', () => composeV2.skip && composeV2.why, () => {
  const box = sandbox('secbuild-runtime-c-');
  const projects: string[] = [];
  const project = () => {
    const p = `secbuild-runtime-${nonce()}`;
    projects.push(p);
    return p;
  };
  const trees: Array<{ cleanup: () => void }> = [];
  afterAll(async () => {
    for (const p of projects) {
      const ids = (await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${p}`])).stdout.toString().split('\n').filter(Boolean);
      if (ids.length) await docker(['rm', '-f', ...ids]);
      await docker(['network', 'rm', `${p}_default`]);
    }
    trees.forEach((t) => t.cleanup());
    box.cleanup();
  });
  const value = `rtc-${nonce()}-value`;
  const env = baseEnv(box, { DB_PASSWORD: value, BASE });
  const containers = async (p: string, status = '') =>
    (await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${p}`, ...(status ? ['--filter', `status=${status}`] : [])])).stdout.toString().split('\n').filter(Boolean);
  /** A service that runs until stopped; init: true so that a stop is quick (the stop itself is what is tested). */
  const longRunning = () => {
    const t = tree({
      'compose.yaml': `services:\n  app:\n    image: ${BASE}\n    init: true\n    stop_grace_period: 1s\n    command: ["sh", "-c", "while :; do sleep 1; done"]\n    secrets: [db]\nsecrets:\n  db:\n    environment: DB_PASSWORD\n`,
    });
    trees.push(t);
    return t.dir;
  };

  test('examples/run-secrets: a non-root service (uid 1000, mode 0400) reads the secret, its hash matches; inspect holds no value; the root is empty after', async () => {
    const p = project();
    const r = await runCli(['compose', '-p', p, 'up'], { env, cwd: join(ROOT, 'examples', 'run-secrets') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/app-1 +\| 1000$/m);
    expect(r.stdout).toMatch(/-r-------- +1 1000 +0 .* db_password/);
    expect(r.stdout).toContain(`${sha(value)}  /run/secrets/db_password`);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(listDir(box.tmp)).toEqual([]);
    const [id] = await containers(p);
    expect((await docker(['inspect', id!])).stdout.toString()).not.toContain(value);
  }, 60_000);

  for (const sig of ['SIGINT', 'SIGKILL'] as const) {
    test(`foreground up, ${sig} of secbuild: the project's containers are stopped and the root is empty`, async () => {
      const p = project();
      const { child, done } = startCli(['compose', '-p', p, 'up'], { env, cwd: longRunning() });
      await waitFor(`${p} running`, async () => (await containers(p, 'running')).length === 1, 30_000, 200);
      child.kill(sig);
      await done;
      await waitFor(`${p} stopped`, async () => (await containers(p, 'running')).length === 0, 20_000, 200);
      await waitFor('the root empty', () => listDir(box.tmp).length === 0, 20_000, 100);
    }, 60_000);
  }

  test('up -d: the keeper holds the file, docker restart reads it again; compose down leaves no container and no file', async () => {
    const p = project();
    const cwd = longRunning();
    const r = await runCli(['compose', '-p', p, 'up', '-d'], { env, cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(listDir(box.tmp)).toHaveLength(1);
    const [id] = await containers(p);
    expect((await docker(['restart', id!])).code).toBe(0);
    expect((await docker(['exec', id!, 'sha256sum', '/run/secrets/db'])).stdout.toString()).toContain(sha(value));
    const down = await runCli(['compose', '-p', p, 'down'], { env, cwd });
    expect(down.code, down.stderr).toBe(0);
    expect(await containers(p)).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  }, 60_000);

  test('a failed up -d stops only the containers that mount its files: a service the user started with docker compose runs on', async () => {
    const p = project();
    const t = tree({
      'compose.yaml': `services:\n  db:\n    image: ${BASE}\n    init: true\n    command: ["sh", "-c", "while :; do sleep 1; done"]\n  app:\n    image: secbuild-runtime-none-${nonce()}:1\n    pull_policy: never\n    secrets: [db]\nsecrets:\n  db:\n    environment: DB_PASSWORD\n`,
    });
    trees.push(t);
    expect((await docker(['compose', '-p', p, '-f', join(t.dir, 'compose.yaml'), 'up', '-d', 'db'])).code).toBe(0);
    const r = await runCli(['compose', '-p', p, 'up', '-d', 'app'], { env, cwd: t.dir });
    expect(r.code).not.toBe(0);
    expect(await containers(p, 'running')).toHaveLength(1);
    expect(listDir(box.tmp)).toEqual([]);
  }, 60_000);

  test('compose down SERVICE: the files another running service mounts stay; compose down removes them', async () => {
    const p = project();
    const t = tree({
      'compose.yaml': `services:\n  db:\n    image: ${BASE}\n    init: true\n    command: ["sh", "-c", "while :; do sleep 1; done"]\n    secrets: [db]\n  app:\n    image: ${BASE}\n    init: true\n    command: ["sh", "-c", "while :; do sleep 1; done"]\nsecrets:\n  db:\n    environment: DB_PASSWORD\n`,
    });
    trees.push(t);
    expect((await runCli(['compose', '-p', p, 'up', '-d'], { env, cwd: t.dir })).code).toBe(0);
    const down = await runCli(['compose', '-p', p, 'down', 'app'], { env, cwd: t.dir });
    expect(down.code, down.stderr).toBe(0);
    expect(listDir(box.tmp)).toHaveLength(1);
    const [id] = await containers(p, 'running');
    expect((await docker(['exec', id!, 'sha256sum', '/run/secrets/db'])).stdout.toString()).toContain(sha(value));
    expect((await runCli(['compose', '-p', p, 'down'], { env, cwd: t.dir })).code).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
  }, 60_000);

  test('up -d again with a rotated value: the service reads the new value, and the first run directory goes with the container that used it', async () => {
    const p = project();
    const cwd = longRunning();
    const first = await runCli(['compose', '-p', p, 'up', '-d'], { env, cwd });
    expect(first.code, first.stderr).toBe(0);
    const [old] = listDir(box.tmp);
    const rotated = `rtc-${nonce()}-rotated`;
    const second = await runCli(['compose', '-p', p, 'up', '-d'], { env: { ...env, DB_PASSWORD: rotated }, cwd });
    expect(second.code, second.stderr).toBe(0);
    const [id] = await containers(p);
    expect((await docker(['exec', id!, 'sha256sum', '/run/secrets/db'])).stdout.toString()).toContain(sha(rotated));
    // No container uses the first directory any more: its keeper removes it, the second one stays.
    await waitFor('the first run directory removed', () => !listDir(box.tmp).includes(old!), 15_000, 100);
    expect(listDir(box.tmp)).toHaveLength(1);
    expect((await runCli(['compose', '-p', p, 'down'], { env, cwd })).code).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
  }, 90_000);
});

const remote = inject('remote');

describeE2E('the Swarm recipe: docker secret create from a provider through secbuild exec, no plaintext file', () => remote.skip, () => {
  const h = remote.info!.host;
  const box = sandbox('secbuild-runtime-s-');
  const id = nonce();
  const [secretName, service] = [`secbuild-runtime-db-${id}`, `secbuild-runtime-svc-${id}`];
  const swarm = (args: string[]) => sh(DOCKER, ['-H', h, ...args]);
  let joined = false;
  afterAll(async () => {
    await swarm(['service', 'rm', service]);
    await swarm(['secret', 'rm', secretName]);
    // Only a swarm this test made is left: the daemon is shared.
    if (joined) await swarm(['swarm', 'leave', '--force']);
    box.cleanup();
  });

  test('the service reads the secret (its hash matches); the secret root is empty and inspect holds no value', async () => {
    const state = (await swarm(['info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.toString().trim();
    if (state === 'inactive') {
      expect((await swarm(['swarm', 'init', '--advertise-addr', '127.0.0.1'])).code).toBe(0);
      joined = true;
    }
    const value = `swarm-${nonce()}-value`;
    const env = baseEnv(box, { DB_PASSWORD: value, DOCKER_HOST: h, DOCKER_CONTEXT: '' });
    const r = await runCli(['exec', '--secret', 'id=db,from=env:DB_PASSWORD', '--', 'sh', '-c', `docker secret create ${secretName} "$SECBUILD_SECRETS/db"`], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
    expect((await swarm(['secret', 'inspect', secretName])).stdout.toString()).not.toContain(value);
    const created = await swarm(['service', 'create', '--detach', '--name', service, '--restart-condition', 'none', '--secret', secretName, BASE, 'sha256sum', `/run/secrets/${secretName}`]);
    expect(created.code, created.stderr).toBe(0);
    await waitFor('the service to print its hash', async () => (await swarm(['service', 'logs', '--raw', service])).stdout.toString().includes(sha(value)), 30_000, 500);
  }, 60_000);
});
