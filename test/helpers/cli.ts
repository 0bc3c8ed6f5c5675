/**
 * Shared helpers for the tiers that run the built CLI (cli and e2e): run it,
 * make private sandboxes and build contexts, watch processes. Nothing here
 * needs Docker; the daemon's helpers are in ./e2e.ts, the docker stand-in in
 * ./fake-docker.ts.
 *
 * Sandboxes and contexts are named after the tier (`secbuild-cli-…`,
 * `secbuild-e2e-…`, from the project's `provide: { tier }` in vitest.config.ts)
 * so that the e2e teardown's sweep never touches another tier's directories.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, inject } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'bin', 'secbuild.js');
/** The local base image the e2e tier builds FROM (.ci/provision.sh imports it); only a name to the cli tier. */
export const BASE = 'secbuild-test/busybox:local';

export type Tier = 'cli' | 'e2e';
const tier = (): string => inject('tier') ?? 'test';
/**
 * The tier, and for e2e the run's own id (test/e2e/global-setup.ts provides it):
 * the teardown's sweep takes only this run's directories, never those of a
 * second e2e run on the same machine.
 */
const owner = (): string => {
  const run = inject('run');
  return run ? `${tier()}-${run}` : tier();
};

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOpts {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  prefix?: string[];
}

export interface Sandbox {
  /** The sandbox itself, for files a test needs next to the secret root. */
  dir: string;
  /** The private secret root (SECBUILD_TMPDIR): it must be empty after every run. */
  tmp: string;
  /** XDG_CACHE_HOME, so engine detection is cached per test file. */
  cache: string;
  cleanup: () => void;
}

/**
 * Where sandboxes are made: a tmpfs, /dev/shm unless SECBUILD_TEST_SHM names
 * another directory (test/cli/test-command.test.ts gives a nested `npm test`
 * an empty one of its own, to prove the run leaves nothing there).
 */
export const SHM = process.env.SECBUILD_TEST_SHM || '/dev/shm';

/**
 * Can a file in `dir` be executed? Not on a noexec mount: /dev/shm in a
 * container (docker and podman mount it so) or on a hardened host.
 */
export function execAllowed(dir: string): boolean {
  let probe: string | undefined;
  try {
    probe = mkdtempSync(join(dir, 'secbuild-exec-probe-'));
    writeFileSync(join(probe, 'x'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    return spawnSync(join(probe, 'x'), { stdio: 'ignore' }).status === 0;
  } catch {
    return false;
  } finally {
    if (probe) rmSync(probe, { recursive: true, force: true });
  }
}

let shmExec: boolean | undefined;

/**
 * A private, empty secret root (0700 in SHM) and a cache dir for one test file.
 * The sandbox's own directory holds the stand-ins tests run (docker, cmd:
 * providers): in SHM when SHM lets files run, else in the OS temp dir, with
 * the secret root alone in SHM (a tmpfs, so secbuild does not warn).
 * `dirname(tmp)` is always a private directory of the sandbox on SHM, on the
 * secret root's file system (for a hard link to a secret file).
 * `prefix`: a name the e2e teardown's sweep of `secbuild-e2e-*` does not take.
 */
export function sandbox(prefix = `secbuild-${owner()}-`, shm = SHM): Sandbox {
  const inShm = shm === SHM ? (shmExec ??= execAllowed(SHM)) : execAllowed(shm);
  const dir = mkdtempSync(join(inShm ? shm : tmpdir(), prefix));
  const shmDir = inShm ? dir : mkdtempSync(join(shm, prefix));
  const tmp = join(shmDir, 'root');
  const cache = join(dir, 'cache');
  mkdirSync(tmp, { mode: 0o700 });
  mkdirSync(cache, { mode: 0o700 });
  chmodSync(tmp, 0o700);
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(shmDir, { recursive: true, force: true });
  };
  return { dir, tmp, cache, cleanup };
}

/** The environment of one CLI run: the caller's, with the sandbox's secret root and cache and the given docker. */
export function envFor(box: Pick<Sandbox, 'tmp' | 'cache'>, docker: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, SECBUILD_DOCKER: docker, SECBUILD_TMPDIR: box.tmp, XDG_CACHE_HOME: box.cache, ...extra };
}

/**
 * For commands that must not touch docker at all (check, secrets, usage
 * errors): SECBUILD_DOCKER names nothing and DOCKER_HOST no daemon, so a run
 * that reached for docker would fail loudly instead of using the machine's.
 */
export function noDockerEnv(box: Pick<Sandbox, 'dir' | 'tmp' | 'cache'>, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return envFor(box, join(box.dir, 'no-docker-here'), { DOCKER_HOST: `unix://${join(box.dir, 'no-daemon.sock')}`, ...extra });
}

/** `prefix`: a command that runs the CLI (its argv follows), e.g. test/helpers/hidden-plugins.ts's mount namespace. */
export function startCli(args: string[], opts: CliOpts): { child: ChildProcess; done: Promise<RunResult> } {
  const [file, ...argv] = [...(opts.prefix ?? []), process.execPath, CLI, ...args];
  const child = spawn(file!, argv, { env: opts.env, cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], opts: CliOpts): Promise<RunResult> {
  return startCli(args, opts).done;
}

export function sh(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: opts.env ?? process.env, encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString() });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** A directory of files (nested paths allowed), removed by `cleanup`. */
export function tree(files: Record<string, string | Buffer>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `secbuild-${owner()}-ctx-`));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A build context with a Dockerfile (`$BASE` is the local busybox image) and extra files. */
export function context(dockerfile: string, files: Record<string, string | Buffer> = {}): { dir: string; cleanup: () => void } {
  return tree({ Dockerfile: dockerfile.replaceAll('$BASE', BASE), ...files });
}

export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

export async function waitFor(what: string, fn: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 50): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** PIDs of host processes whose command line contains `needle` (the build's RUN runs on the host kernel). */
export function pidsMatching(needle: string): number[] {
  const out: number[] = [];
  for (const name of listDir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(needle)) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** Does `haystack` contain `needle` anywhere (byte-exact)? */
export function containsBytes(haystack: Buffer, needle: Buffer): boolean {
  return haystack.indexOf(needle) !== -1;
}

/** Fails when `text` holds any of `values`, raw or base64 (unpadded). */
export function expectNoSecret(text: string, values: readonly string[]): void {
  for (const v of values) {
    expect(text.includes(v), `output contains secret ${v.slice(0, 6)}…`).toBe(false);
    expect(text.includes(Buffer.from(v).toString('base64').replace(/=+$/, ''))).toBe(false);
  }
}

export const nonce = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

declare module 'vitest' {
  export interface ProvidedContext {
    /** Which tier a test file runs in (vitest.config.ts); names sandboxes and contexts. */
    tier: Tier;
    /** The e2e run's id (names its sandboxes and contexts); absent in other tiers. */
    run?: string;
  }
}
