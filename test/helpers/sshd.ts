/**
 * A git-over-SSH server for the e2e tier's `--ssh-key` tests (issue 15),
 * adapted from the verified recipe (shared recipes §4, sshd-git-up.sh): an
 * sshd of its own on 127.0.0.1 on a free port, key-only auth for the user
 * running the tests, every session forced into git-shell, serving one bare
 * repository. Its directory is pid-claimed (./fixture-dirs.ts) so a run
 * killed before its teardown has its sshd stopped by the next run.
 *
 * Unlike the recipe it creates no `git` user: the current user logs in, so
 * the repository is ours (no "dubious ownership") and nothing on the machine
 * changes. `ForceCommand` keeps the session to git-shell all the same.
 *
 * `toolsImage` is the Debian base with openssh-client, built once per
 * machine (apt in the build with --network=host, 4 s; the recipe's
 * rcp-ssh-tools) and kept: builds that clone over ssh run FROM it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { claim } from './fixture-dirs.js';
import { DEBIAN_BASE, freePort, run } from './servers.js';

export const SSH_TOOLS_IMAGE = 'secbuild-e2e-ssh-tools:local';
export const SSHD = '/usr/sbin/sshd';

export interface GitSshd {
  port: number;
  /** `ssh://USER@127.0.0.1:PORT/…/repo.git` */
  url: string;
  /** One line: `[127.0.0.1]:PORT ssh-ed25519 AAAA…`, to pin in the build. */
  knownHosts: string;
  readme: string;
  /** The private key sshd accepts (OpenSSH format, unencrypted). */
  key: string;
  /** The same key's fingerprint as ssh-keygen -l prints it. */
  fingerprint: string;
  stop(): Promise<void>;
}

/** What is missing for these tests, or undefined. */
export function sshdProblem(): string | undefined {
  for (const bin of [SSHD, '/usr/bin/ssh-agent', '/usr/bin/ssh-add', '/usr/bin/ssh-keygen', '/usr/bin/git-shell']) {
    if (!existsSync(bin)) return `${bin} is missing (.ci/provision.sh installs openssh-server, openssh-client and git)`;
  }
  return undefined;
}

export async function keygen(dir: string, name: string, extra: string[] = []): Promise<{ key: string; pub: string; fingerprint: string }> {
  const path = join(dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `secbuild-e2e-${name}`, '-f', path, ...extra]);
  const fingerprint = (await run('ssh-keygen', ['-l', '-f', `${path}.pub`])).split(' ')[1]!;
  const out = { key: readFileSync(path, 'utf8'), pub: readFileSync(`${path}.pub`, 'utf8'), fingerprint };
  rmSync(path);
  return out;
}

export async function startGitSshd(): Promise<GitSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-e2e-servers-ssh-'));
  const user = userInfo().username;
  const client = await keygen(dir, 'client');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  writeFileSync(join(dir, `authorized_keys.${user}`), client.pub, { mode: 0o644 });
  const work = join(dir, 'work');
  const readme = `hello over ssh ${Date.now()}\n`;
  mkdirSync(work);
  writeFileSync(join(work, 'README'), readme);
  await run('git', ['init', '-q', '-b', 'main', work]);
  await run('git', ['-C', work, 'add', 'README']);
  await run('git', ['-C', work, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-qm', 'init']);
  await run('git', ['clone', '-q', '--bare', work, join(dir, 'repo.git')]);
  const port = await freePort();
  mkdirSync('/run/sshd', { recursive: true }); // privilege separation dir, normally made by the systemd unit
  writeFileSync(join(dir, 'sshd_config'), [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys.%u')}`, `AllowUsers ${user}`, 'PubkeyAuthentication yes', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no', 'LogLevel VERBOSE',
    'ForceCommand /usr/bin/git-shell -c "$SSH_ORIGINAL_COMMAND"', '',
  ].join('\n'));
  // sshd daemonizes; its pid is in the PidFile once it listens.
  await run(SSHD, ['-f', join(dir, 'sshd_config'), '-E', join(dir, 'sshd.log')]);
  const pidFile = join(dir, 'sshd.pid');
  // The file may exist before sshd has written its pid into it: wait for a number.
  const readPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0);
  for (let i = 0; i < 100 && !(readPid() > 1); i++) await new Promise((r) => setTimeout(r, 50));
  const pid = readPid();
  claim(dir, [pid]);
  const hostPub = readFileSync(join(dir, 'host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  return {
    port,
    url: `ssh://${user}@127.0.0.1:${port}${join(dir, 'repo.git')}`,
    knownHosts: `[127.0.0.1]:${port} ${hostPub}\n`,
    readme,
    key: client.key,
    fingerprint: client.fingerprint,
    async stop() {
      try {
        if (pid > 1) process.kill(pid, 'SIGTERM'); // never kill(0): the own process group
      } catch {
        // gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The Debian base plus openssh-client, built once per machine (kept between runs, like the base). */
export async function ensureToolsImage(docker: string): Promise<void> {
  const env = { ...process.env, DOCKER_BUILDKIT: '1' };
  const has = await new Promise<boolean>((r) => execFile(docker, ['image', 'inspect', SSH_TOOLS_IMAGE], (err) => r(!err)));
  if (has) return;
  const ctx = mkdtempSync(join(tmpdir(), 'secbuild-e2e-ctx-sshtools-'));
  try {
    writeFileSync(join(ctx, 'Dockerfile'), [
      `FROM ${DEBIAN_BASE}`,
      'RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-client >/dev/null && rm -rf /var/lib/apt/lists/*',
      '',
    ].join('\n'));
    await run(docker, ['build', '-q', '--network=host', '-t', SSH_TOOLS_IMAGE, ctx], { env });
  } finally {
    rmSync(ctx, { recursive: true, force: true });
  }
}
