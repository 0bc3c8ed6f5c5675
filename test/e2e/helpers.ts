/** Shared helpers for the e2e tier: run the built CLI, make build contexts, inspect images. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'bin', 'secbuild.js');
export const BASE = 'secbuild-test/busybox:local';
export const e2e = inject('e2e');
export const DOCKER = e2e.docker;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A private, empty secret root (0700 on /dev/shm) and a cache dir for one test. */
export function sandbox(): { tmp: string; cache: string; dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join('/dev/shm', 'secbuild-e2e-'));
  const tmp = join(dir, 'root');
  const cache = join(dir, 'cache');
  mkdirSync(tmp, { mode: 0o700 });
  mkdirSync(cache, { mode: 0o700 });
  chmodSync(tmp, 0o700);
  return { dir, tmp, cache, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function baseEnv(box: { tmp: string; cache: string }, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, SECBUILD_DOCKER: DOCKER, SECBUILD_TMPDIR: box.tmp, XDG_CACHE_HOME: box.cache, ...extra };
}

export function startCli(args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; input?: string }): { child: ChildProcess; done: Promise<RunResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { env: opts.env, cwd: opts.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  const done = new Promise<RunResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

export function runCli(args: string[], opts: { env: NodeJS.ProcessEnv; cwd?: string; input?: string }): Promise<RunResult> {
  return startCli(args, opts).done;
}

export function sh(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; encoding?: 'buffer' } = {}): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: opts.env ?? process.env, encoding: 'buffer', maxBuffer: 1 << 30 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString() });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

export function docker(args: string[], input?: string) {
  return sh(DOCKER, args, { env: { ...process.env, DOCKER_BUILDKIT: '1' }, input });
}

/** A build context with a Dockerfile (FROM the local busybox image) and extra files. */
export function context(dockerfile: string, files: Record<string, string | Buffer> = {}): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-ctx-'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile.replaceAll('$BASE', BASE));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
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

export const nonce = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
