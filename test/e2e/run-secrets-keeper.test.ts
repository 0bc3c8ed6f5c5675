/**
 * Run-time secrets against the real daemon, from the side of what changes
 * around a run (test/e2e/run-secrets.test.ts holds the main cases): the
 * current docker context switched after `run -d` (the keeper must keep
 * asking the run's daemon), and secbuild run by a user other than root in
 * the docker group (`compose up` must not need root for Compose's defaults).
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, symlinkSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, expect, inject, test } from 'vitest';
import { BASE, CLI, listDir, nonce, runCli, sandbox, sh, tree, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker, DOCKER } from '../helpers/e2e.js';
import { composeV2 } from '../helpers/engines.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const remote = inject('remote');

/** One detached container's sandbox: its secret root, its name (removed after the suite) and its secret's value. */
function keptSuite(tag: string) {
  const box = sandbox(`secbuild-runtime-${tag}-`);
  const n = `secbuild-runtime-${tag}-${nonce()}`;
  const value = `rt${tag}-${nonce()}-value`;
  afterAll(async () => {
    await docker(['rm', '-f', n]);
    box.cleanup();
  });
  return { box, n, value };
}

/** The `run -d` argv of a container that runs until stopped (its sh ends at once on SIGTERM). */
const runDetached = (n: string) => ['run', '--secret', 'id=db,from=env:DB_PASSWORD', '-d', '--name', n, BASE, 'sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'];

describeE2E('the keeper asks the daemon the run used, whatever `docker context use` says later', () => remote.skip, () => {
  const { box, n, value } = keptSuite('k');
  // A docker config of its own, current context "default"; "other" is the second daemon, which has no such container.
  const config = join(box.dir, 'docker-config');
  // DOCKER_HOST and DOCKER_CONTEXT unset, not empty: docker 20.10 reads a DOCKER_HOST that is set at all as "the default context".
  const { DOCKER_HOST: _h, DOCKER_CONTEXT: _c, ...env } = baseEnv(box, { DB_PASSWORD: value, DOCKER_CONFIG: config });
  const cli = (args: string[]) => sh(DOCKER, args, { env });

  test('-d, then the current context switched to another daemon and the container restarted: the file stays; docker rm removes it', async () => {
    expect((await cli(['context', 'create', 'other', '--docker', `host=${remote.info!.host}`])).code).toBe(0);
    const r = await runCli(runDetached(n), { env });
    expect(r.code, r.stderr).toBe(0);
    expect((await cli(['context', 'use', 'other'])).code).toBe(0);
    // The keeper's `docker wait` ends with the restart; it then asks whether the container is gone.
    expect((await cli(['--context', 'default', 'restart', '-t', '1', n])).code).toBe(0);
    await new Promise((res) => setTimeout(res, 5_000));
    expect(listDir(box.tmp)).toHaveLength(1);
    expect((await docker(['exec', n, 'sha256sum', '/run/secrets/db'])).stdout.toString()).toContain(sha(value));
    expect((await docker(['rm', '-f', n])).code).toBe(0);
    await waitFor('the keeper to remove the run directory', () => listDir(box.tmp).length === 0, 15_000, 100);
  }, 60_000);
});

describeE2E('secbuild run -d killed the moment it has handed its directory to the keeper', () => {
  const { box, n, value } = keptSuite('h');

  test('SIGSTOP the instant the keeper\'s socket appears, then SIGKILL: the container runs on with its file; after docker rm, nothing is left', async () => {
    const env = baseEnv(box, { DB_PASSWORD: value });
    const child = spawn(process.execPath, [CLI, ...runDetached(n)], { env, stdio: 'ignore' });
    // inotify: the run directory, then its `.kept` (linked just before the keeper starts): secbuild is frozen in the hand-off.
    const frozen = new Promise<void>((res) => {
      const top = watch(box.tmp, (_e, name) => {
        if (!name) return;
        top.close();
        const inner = watch(join(box.tmp, name), (_e2, entry) => {
          if (entry !== '.kept') return;
          child.kill('SIGSTOP');
          inner.close();
          res();
        });
      });
    });
    await frozen;
    child.kill('SIGKILL');
    await new Promise((res) => setTimeout(res, 5_000));
    const state = (await docker(['inspect', '--format', '{{.State.Status}}', n])).stdout.toString().trim();
    expect(state).toBe('running');
    expect(listDir(box.tmp)).toHaveLength(1);
    expect((await docker(['exec', n, 'sha256sum', '/run/secrets/db'])).stdout.toString()).toContain(sha(value));
    expect((await docker(['rm', '-f', n])).code).toBe(0);
    // Frozen before the keeper started, there is none: the sweep (here `secbuild clean`) removes the directory once its socket is dead.
    expect((await runCli(['clean'], { env })).code).toBe(0);
    await waitFor('the keeper or the sweep to remove the run directory', () => listDir(box.tmp).length === 0, 15_000, 100);
  }, 60_000);
});

describeE2E('the keeper reads only docker\'s own answer as "the container is gone"', () => {
  const { box, n, value } = keptSuite('w');

  test('-d through a bash wrapper whose docker then goes missing ("No such file or directory"), container restarted: the file stays', async () => {
    // A pass-through wrapper, as a team's docker shim: it execs the real docker through a link that is then removed.
    const link = join(box.dir, 'real-docker');
    const wrapper = join(box.dir, 'docker');
    symlinkSync(DOCKER, link);
    writeFileSync(wrapper, `#!/bin/bash\nexec '${link}' "$@"\n`, { mode: 0o755 });
    const env = baseEnv(box, { DB_PASSWORD: value, SECBUILD_DOCKER: wrapper });
    const r = await runCli(runDetached(n), { env });
    expect(r.code, r.stderr).toBe(0);
    unlinkSync(link);
    // The keeper's `docker wait` ends with the restart; it then asks, through the wrapper, whether the container is gone.
    expect((await docker(['restart', '-t', '1', n])).code).toBe(0);
    await new Promise((res) => setTimeout(res, 5_000));
    expect(listDir(box.tmp)).toHaveLength(1);
    expect((await docker(['exec', n, 'sha256sum', '/run/secrets/db'])).stdout.toString()).toContain(sha(value));
    symlinkSync(DOCKER, link);
    expect((await docker(['rm', '-f', n])).code).toBe(0);
    await waitFor('the keeper to remove the run directory', () => listDir(box.tmp).length === 0, 15_000, 100);
  }, 60_000);
});

/** The docker group's id, when this machine has one. */
const dockerGid = (): number | undefined => {
  const m = /^docker:[^:]*:(\d+):/m.exec(readFileSync('/etc/group', 'utf8'));
  return m ? Number(m[1]) : undefined;
};
const NOBODY = 65534;

describeE2E('compose up as a user other than root, in the docker group', () => (composeV2.skip && composeV2.why) || (process.getuid?.() !== 0 && 'it runs secbuild as uid 65534, which needs root') || (dockerGid() === undefined && 'no docker group'), () => {
  const box = sandbox('secbuild-runtime-u-');
  const p = `secbuild-runtime-u-${nonce()}`;
  const value = `rtu-${nonce()}-value`;
  const t = tree({
    'compose.yaml': `services:\n  app:\n    image: ${BASE}\n    command: ["sha256sum", "/run/secrets/db"]\n    secrets: [db]\nsecrets:\n  db:\n    environment: DB_PASSWORD\n`,
  });
  afterAll(async () => {
    const ids = (await docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${p}`])).stdout.toString().split('\n').filter(Boolean);
    if (ids.length) await docker(['rm', '-f', ...ids]);
    await docker(['network', 'rm', `${p}_default`]);
    t.cleanup();
    box.cleanup();
  });

  test('a short-syntax secret (Compose\'s defaults: mode 0444) is the user\'s own file, readable in the container; no root needed; the root is empty after', async () => {
    for (const d of [box.dir, box.tmp, box.cache]) chownSync(d, NOBODY, NOBODY);
    chmodSync(t.dir, 0o755);
    const env = { ...baseEnv(box, { DB_PASSWORD: value, HOME: box.dir }), XDG_RUNTIME_DIR: '' };
    const r = await runCli(['compose', '-p', p, 'up'], { env, cwd: t.dir, prefix: ['setpriv', `--reuid=${NOBODY}`, `--regid=${dockerGid()}`, '--clear-groups'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${sha(value)}  /run/secrets/db`);
    expect(listDir(box.tmp)).toEqual([]);
  }, 60_000);
});
