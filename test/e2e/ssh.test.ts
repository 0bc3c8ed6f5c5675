/**
 * `--ssh-key` against the real daemon and a real sshd (issue 15): a git
 * repository served over SSH from 127.0.0.1 (test/helpers/sshd.ts) is cloned
 * in `RUN --mount=type=ssh` with the key from env:, file: and keychain:; the
 * key lives only in secbuild's throw-away agent, whose socket is in the run
 * directory. After every run no agent of secbuild's is alive and the run
 * directory is gone; a SIGKILL of secbuild mid-clone leaves neither within
 * 5 s (the watchdog); no key byte is in `docker save` or `docker history`.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { listDir, nonce, pidsMatching, runCli, sandbox, startCli, tree, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker, DOCKER } from '../helpers/e2e.js';
import { composeV2 } from '../helpers/engines.js';
import { streamHolds } from '../helpers/image-bytes.js';
import { secretServiceProblem, secretTool } from '../helpers/keyring.js';
import { RUN_MARK_VAR } from '../../src/run/mark.js';
import { ensureToolsImage, keygen, SSH_TOOLS_IMAGE, sshdProblem, startGitSshd, type GitSshd } from '../helpers/sshd.js';

const keyring = secretServiceProblem();

/** The key's base64 body lines: what a key printed or copied into a layer is made of. */
const bodyLines = (key: string) => key.split('\n').filter((l) => l && !l.startsWith('-----'));

describeE2E('--ssh-key: a private agent for RUN --mount=type=ssh (real sshd, real daemon)', sshdProblem, () => {
  const box = sandbox('secbuild-e2e-ssh-');
  const id = nonce();
  const tags: string[] = [];
  const tag = (name: string) => {
    const t = `secbuild-e2e-ssh-${name}:${id}`;
    tags.push(t);
    return t;
  };
  let sshd: GitSshd;
  let ctx: { dir: string; cleanup: () => void };
  let slow: { dir: string; cleanup: () => void };
  const service = `secbuild-e2e-ssh-${id}`;

  beforeAll(async () => {
    sshd = await startGitSshd();
    await ensureToolsImage(DOCKER);
    const files = { 'known_hosts': sshd.knownHosts };
    ctx = tree({
      Dockerfile: `FROM ${SSH_TOOLS_IMAGE}\nCOPY known_hosts /root/.ssh/known_hosts\nRUN --mount=type=ssh git clone -q ${sshd.url} /src && cat /src/README\n`,
      ...files,
    });
    // A RUN that holds the agent (ssh-add -l) and then waits: the window for the SIGKILL.
    slow = tree({
      Dockerfile: `FROM ${SSH_TOOLS_IMAGE}\nCOPY known_hosts /root/.ssh/known_hosts\nRUN --mount=type=ssh ssh-add -l && echo CLONE-STARTED && sleep 60 && git clone -q ${sshd.url} /src\n`,
      ...files,
    });
    writeFileSync(join(box.dir, 'deploy_key'), sshd.key);
    chmodSync(join(box.dir, 'deploy_key'), 0o600);
  }, 180_000);

  afterAll(async () => {
    if (tags.length) await docker(['rmi', '-f', ...tags]);
    if (!keyring) await secretTool.clear(service, 'deploy');
    ctx?.cleanup();
    slow?.cleanup();
    await sshd?.stop();
    box.cleanup();
  });

  /** No ssh-agent of secbuild's (its socket is under the sandbox's secret root) and no run directory. */
  const expectNoAgent = () => {
    expect(pidsMatching(`ssh-agent -D -a ${box.tmp}`)).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  };

  const cases: Array<[string, () => Promise<{ ref: string; env?: NodeJS.ProcessEnv }>]> = [
    ['env:', async () => ({ ref: 'env:E2E_DEPLOY_KEY', env: { E2E_DEPLOY_KEY: sshd.key } })],
    ['file:', async () => ({ ref: `file:${join(box.dir, 'deploy_key')}` })],
  ];
  if (!keyring) {
    cases.push(['keychain:', async () => {
      const stored = await secretTool.store(service, 'deploy', sshd.key);
      expect(stored.code, stored.stderr).toBe(0);
      return { ref: `keychain:${service}/deploy` };
    }]);
  }

  test.each(cases)('the build clones over ssh with the key from %s; no agent or run directory is left', async (name, make) => {
    const { ref, env } = await make();
    const image = tag(name.replace(':', ''));
    const r = await runCli(['--ssh-key', ref, '--progress=plain', '--no-cache', '--network=host', '-t', image, ctx.dir], { env: baseEnv(box, env) });
    expect(r.stderr).toContain(sshd.readme.trim());
    expect(r.code, r.stderr).toBe(0);
    for (const line of bodyLines(sshd.key)) expect(r.stdout + r.stderr).not.toContain(line);
    expectNoAgent();
    const readme = await docker(['run', '--rm', image, 'cat', '/src/README']);
    expect(readme.stdout.toString()).toBe(sshd.readme);
  }, 120_000);

  test('without the key the same build fails: secbuild stops at the preflight (exit 2), docker alone fails the clone', async () => {
    const r = await runCli(['--no-cache', '--network=host', '-t', tag('nokey'), ctx.dir], { env: baseEnv(box) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(ctx.dir, 'Dockerfile')}:3: RUN mounts ssh id "default" but no key or agent is forwarded for it`);
    const raw = await docker(['build', '--no-cache', '--network=host', '-t', tag('raw'), ctx.dir]);
    expect(raw.code).not.toBe(0);
    expectNoAgent();
  }, 120_000);

  test('a key the server does not know: the clone fails (no cache), docker\'s exit code passes through', async () => {
    const other = await keygen(box.dir, `other-${nonce()}`);
    const r = await runCli(['--ssh-key', 'env:E2E_OTHER_KEY', '--no-cache', '--network=host', '-t', tag('wrong'), ctx.dir], { env: baseEnv(box, { E2E_OTHER_KEY: other.key }) });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(2);
    expectNoAgent();
  }, 120_000);

  test('SIGKILL of secbuild during the clone: the agent is gone and its socket removed within 5 s', async () => {
    const run = startCli(['--ssh-key', 'env:E2E_DEPLOY_KEY', '--progress=plain', '--no-cache', '--network=host', '-t', tag('killed'), slow.dir], { env: baseEnv(box, { E2E_DEPLOY_KEY: sshd.key }) });
    let seen = '';
    run.child.stderr!.on('data', (d) => (seen += d));
    await waitFor('the RUN to hold the agent', () => seen.includes('CLONE-STARTED') || run.child.exitCode !== null, 90_000);
    expect(seen).toContain('CLONE-STARTED');
    const agents = pidsMatching(`ssh-agent -D -a ${box.tmp}`);
    expect(agents).toHaveLength(1);
    // The agent's argv is the socket and the lifetime; its environment PATH and the run's mark (by which the watchdog
    // finds it: src/run/mark.ts), nothing else: no key, no variable a secret came from.
    const environ = readFileSync(`/proc/${agents[0]}/environ`, 'utf8').split('\0').filter(Boolean);
    expect(environ.map((e) => e.split('=')[0])).toEqual(['PATH', RUN_MARK_VAR]);
    expect(readFileSync(`/proc/${agents[0]}/cmdline`, 'utf8').split('\0')).toEqual(['ssh-agent', '-D', '-a', expect.stringMatching(/\/ssh-agent-0\.sock$/), '-t', '14400', '']);
    run.child.kill('SIGKILL');
    const ms = await waitFor('the agent and its socket to go', () => pidsMatching(`ssh-agent -D -a ${box.tmp}`).length === 0 && listDir(box.tmp).length === 0, 5000);
    expect(ms).toBeLessThan(5000);
    await run.done;
  }, 120_000);

  test.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s during the clone: the build is cancelled, the agent stopped and the run directory removed', async (signal) => {
    const run = startCli(['--ssh-key', 'env:E2E_DEPLOY_KEY', '--progress=plain', '--no-cache', '--network=host', '-t', tag(`sig-${signal.toLowerCase()}`), slow.dir], { env: baseEnv(box, { E2E_DEPLOY_KEY: sshd.key }) });
    let seen = '';
    run.child.stderr!.on('data', (d) => (seen += d));
    await waitFor('the RUN to hold the agent', () => seen.includes('CLONE-STARTED') || run.child.exitCode !== null, 90_000);
    expect(pidsMatching(`ssh-agent -D -a ${box.tmp}`)).toHaveLength(1);
    run.child.kill(signal);
    const r = await run.done;
    expect(r.code).toBe({ SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }[signal]);
    expectNoAgent();
  }, 120_000);

  test('--dry-run prints the --ssh value a real run passes and starts no agent', async () => {
    const r = await runCli(['--dry-run', '--ssh-key', 'env:E2E_DEPLOY_KEY', '--network=host', ctx.dir], { env: baseEnv(box, { E2E_DEPLOY_KEY: sshd.key }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`--ssh default=${box.tmp}/secbuild-\\d+-\\w+/ssh-agent-0\\.sock`));
    expectNoAgent();
  });

  // Both compose engines: the direct engine's docker build, and Compose v2 with the override's build.ssh (its build progress on stdout: secbuild puts it on stderr).
  for (const engine of ['direct', 'compose'] as const) test.skipIf(engine === 'compose' && composeV2.skip)(`secbuild compose build (${engine} engine): a service whose build.ssh names "default" clones with the key`, async () => {
    const image = tag(`compose-${engine}`);
    const project = tree({
      'Dockerfile': readFileSync(join(ctx.dir, 'Dockerfile'), 'utf8'),
      'known_hosts': sshd.knownHosts,
      'compose.yaml': `services:\n  app:\n    image: ${image}\n    build:\n      context: .\n      network: host\n      ssh: [default]\n`,
    });
    try {
      const r = await runCli(['compose', '--engine', engine, '--ssh-key', 'env:E2E_DEPLOY_KEY', 'build', '--no-cache', '--progress', 'plain'], { env: baseEnv(box, { E2E_DEPLOY_KEY: sshd.key }), cwd: project.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(sshd.readme.trim());
      expect(r.stderr).not.toMatch(/--progress is a global compose flag/);
      expectNoAgent();
      expect((await docker(['run', '--rm', image, 'cat', '/src/README'])).stdout.toString()).toBe(sshd.readme);
    } finally {
      project.cleanup();
    }
  }, 120_000);

  test('no key byte is in docker save or docker history of the built image', async () => {
    const image = tags.find((t) => t.includes('-env:')) ?? tag('env');
    const needles = [...bodyLines(sshd.key), sshd.key.trim()].map((l) => Buffer.from(l));
    const saved = await streamHolds(DOCKER, ['save', image], needles);
    expect(saved.code).toBe(0);
    expect(saved.bytes).toBeGreaterThan(1 << 20);
    expect(saved.found.map(String)).toEqual([]);
    const history = await streamHolds(DOCKER, ['history', '--no-trunc', image], needles);
    expect(history.found.map(String)).toEqual([]);
  }, 120_000);

  test('a key printed in the build log is masked, and copied into a layer is found by --verify and secbuild verify (exit 4)', async () => {
    const leaky = tree({
      // "deploy.txt" is no credential file name check knows: only the key's forms can catch it.
      'deploy.txt': sshd.key,
      Dockerfile: 'FROM secbuild-test/busybox:local\nCOPY deploy.txt /deploy.txt\nRUN --mount=type=ssh cat /deploy.txt\n',
    });
    const image = tag('leaky');
    try {
      const r = await runCli(['--ssh-key', 'env:E2E_DEPLOY_KEY', '--progress=plain', '--no-cache', '--verify', '-t', image, leaky.dir], { env: baseEnv(box, { E2E_DEPLOY_KEY: sshd.key }) });
      expect(r.code, r.stderr).toBe(4);
      for (const line of bodyLines(sshd.key)) expect(r.stdout + r.stderr).not.toContain(line);
      expect(r.stderr).toContain('***');
      expectNoAgent();
      const v = await runCli(['verify', '--ssh-key', 'env:E2E_DEPLOY_KEY', image], { env: baseEnv(box, { E2E_DEPLOY_KEY: sshd.key }) });
      expect(v.code).toBe(4);
      expect(v.stdout).toMatch(/ssh:default/);
      expect(v.stdout).toContain('deploy.txt');
    } finally {
      leaky.cleanup();
    }
  }, 120_000);

  test('refused before docker runs: the same id from --ssh too (exit 2), a passphrase-protected key (exit 3), no ssh-agent on PATH (exit 2, names openssh-client)', async () => {
    const env = baseEnv(box, { E2E_DEPLOY_KEY: sshd.key });
    const both = await runCli(['--ssh-key', 'env:E2E_DEPLOY_KEY', '--ssh', 'default', '--network=host', ctx.dir], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('ssh id "default" is given twice: by docker\'s --ssh default and by --ssh-key env:E2E_DEPLOY_KEY');
    const locked = await keygen(box.dir, `locked-${nonce()}`, ['-N', 'a-passphrase']);
    const enc = await runCli(['--ssh-key', 'env:E2E_LOCKED', '--network=host', ctx.dir], { env: baseEnv(box, { E2E_LOCKED: locked.key }) });
    expect(enc.code).toBe(3);
    expect(enc.stderr).toContain('the key is passphrase-protected, and secbuild loads only unencrypted keys');
    const bare = await runCli(['--ssh-key', 'env:E2E_DEPLOY_KEY', '--network=host', ctx.dir], { env: { ...env, PATH: '/nonexistent' } });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('ssh-agent was not found on PATH');
    expect(bare.stderr).toContain('openssh-client');
    for (const r of [both, enc, bare]) for (const line of bodyLines(sshd.key)) expect(r.stdout + r.stderr).not.toContain(line);
    expectNoAgent();
  }, 60_000);

  test('secbuild secrets lists the key with its type and fingerprint, never the key', async () => {
    const r = await runCli(['secrets', '--ssh-key', 'env:E2E_DEPLOY_KEY'], { env: baseEnv(box, { E2E_DEPLOY_KEY: sshd.key }) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`ssh key for ssh id "default": ssh-ed25519 ${sshd.fingerprint}`);
    for (const line of bodyLines(sshd.key)) expect(r.stdout + r.stderr).not.toContain(line);
  });
});
