/**
 * Throw-away SSH agents for `docker build --ssh ID=SOCKET`: one `ssh-agent`
 * per ssh id, listening on a socket inside the run directory, holding the
 * keys of that id and nothing else, alive only while the build runs.
 *
 * - `ssh-agent -D -a SOCKET -t SECONDS`: in the foreground (no fork, so the
 *   pid the exec seam registers is the agent's own; the watchdog learns it
 *   and stops it if secbuild is SIGKILLed, and removes the run directory with
 *   the socket). `-t` bounds how long any key stays usable, a second line of
 *   defence. Started with signals policy 'kill': every exit path ends it.
 * - `ssh-add -q -`: each key on stdin, never in argv, a file or the
 *   environment; the environment is PATH, SSH_AUTH_SOCK and
 *   SSH_ASKPASS_REQUIRE=never (a key that wanted a passphrase fails instead of
 *   prompting; src/secrets/sshkey.ts refuses those earlier).
 * Verified on OpenSSH 9.2p1 (shared recipes §4).
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { UsageError } from '../util/errors.js';
import { minimalEnv, withVars } from './env.js';
import { capture, start } from './exec.js';
import { MAX_SOCKET_PATH, socketPathFits } from './rundir.js';

/** How long ssh-agent keeps a key usable (`-t`): well past any build, far short of forever. */
export const KEY_LIFETIME_SECONDS = 4 * 3600;
const READY_MS = 5000;
/** How long an agent gets to exit after SIGTERM before SIGKILL. */
const STOP_MS = 2000;

export interface AgentKeys {
  /** The ssh id BuildKit sees (`default`, or the one a RUN names). */
  id: string;
  /** Printable sources, one per key, for messages. */
  sources: readonly string[];
  keys: readonly Buffer[];
}

export interface Agents {
  /** `ID=SOCKET` per id, in order: the values of docker's --ssh. */
  flags: string[];
  /** Stops every agent and resolves when they have exited. */
  stop(): Promise<void>;
}

/** The socket of the index-th agent in run directory `dir`. */
export function agentSocket(dir: string, index: number): string {
  return join(dir, `ssh-agent-${index}.sock`);
}

const missing = (bin: string) =>
  new UsageError(`${bin} was not found on PATH; it is needed for --ssh-key. Install openssh-client (apt-get install openssh-client) or put ${bin} on PATH.`);

/** Waits for `ssh-agent -D` to print its SSH_AUTH_SOCK line (it binds the socket first), or for its end. */
function ready(agent: ChildProcess, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new UsageError(`ssh-agent for ssh id "${id}" did not start within ${READY_MS / 1000} s; check that ssh-agent works here (ssh-agent -D -a /tmp/x.sock).`)), READY_MS);
    const fail = (err: Error) => {
      clearTimeout(timer);
      agent.kill('SIGKILL');
      reject(err);
    };
    agent.once('error', (err: NodeJS.ErrnoException) => fail(err.code === 'ENOENT' ? missing('ssh-agent') : new UsageError(`ssh-agent could not be started (${err.code ?? err.message}).`)));
    agent.once('exit', (code, signal) => fail(new UsageError(`ssh-agent for ssh id "${id}" ended at start (${signal ?? `exit ${code}`}); check that ssh-agent works here.`)));
    agent.stdout!.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (out.includes('SSH_AUTH_SOCK=')) {
        clearTimeout(timer);
        agent.removeAllListeners('exit');
        agent.stdout!.resume();
        resolve();
      }
    });
  });
}

/**
 * Starts one agent per entry in run directory `dir` and loads its keys.
 * On any failure every agent started so far is stopped before the error
 * propagates.
 */
export async function startAgents(dir: string, entries: readonly AgentKeys[], env: NodeJS.ProcessEnv): Promise<Agents> {
  const started: ChildProcess[] = [];
  // Stopped means gone: TERM (ssh-agent removes its socket), KILL after a bound, and wait for the exit.
  const stop = () =>
    Promise.all(started.map((a) => new Promise<void>((resolve) => {
      if (a.exitCode !== null || a.signalCode !== null) return resolve();
      const kill = setTimeout(() => a.kill('SIGKILL'), STOP_MS);
      a.once('exit', () => (clearTimeout(kill), resolve()));
      a.kill('SIGTERM');
    }))).then(() => undefined);
  const flags: string[] = [];
  try {
    for (const [index, entry] of entries.entries()) {
      const socket = agentSocket(dir, index);
      if (!socketPathFits(socket)) {
        throw new UsageError(`the agent socket ${socket} is longer than a unix socket path may be (${MAX_SOCKET_PATH} bytes); choose a shorter secret root with --tmpdir.`);
      }
      const base = minimalEnv(env);
      const agent = start('ssh-agent', ['-D', '-a', socket, '-t', String(KEY_LIFETIME_SECONDS)], { env: base, stdio: ['ignore', 'pipe', 'ignore'], signals: 'kill' });
      started.push(agent);
      await ready(agent, entry.id);
      const addEnv = withVars(base, { SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: 'never' });
      for (const [k, key] of entry.keys.entries()) {
        const added = await capture('ssh-add', ['-q', '-'], { env: addEnv, input: key, timeoutMs: 10_000, maxBytes: 64 << 10 });
        if (added.failedToStart === 'ENOENT') throw missing('ssh-add');
        if (added.exitCode !== 0) {
          const said = added.stderr.split('\n').find((l) => l.trim())?.trim().slice(0, 200) ?? `exit ${added.exitCode ?? added.signal}`;
          throw new UsageError(`ssh-add refused the key from ${entry.sources[k]} for ssh id "${entry.id}" (${said}); check that it is an unencrypted private key.`);
        }
      }
      flags.push(`${entry.id}=${socket}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { flags, stop };
}
