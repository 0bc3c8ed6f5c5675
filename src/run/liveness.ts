/**
 * Which run directories belong to a live run — provable across PID
 * namespaces (containers sharing /dev/shm or $XDG_RUNTIME_DIR, CI job
 * containers), where a directory's `secbuild-PID-` says nothing: PID 7 in
 * one namespace is another process, or none, in the next.
 *
 * A live run listens on a Unix socket in its own run directory (`.alive`,
 * bound right after the directory is created, closed when it is removed). The
 * socket is a file: anyone who shares the file system can connect to it,
 * whatever their PID or network namespace, and the kernel answers a connect
 * while the listener exists — also while secbuild is stopped (SIGSTOP) — and
 * refuses it (ECONNREFUSED) once the process is gone, however it died.
 *
 * The sweep (every run, and `secbuild clean`) removes only directories it
 * could have created — name `secbuild-<digits>-<6 letters or digits>`, a
 * real directory, owned by this user — and of those only the ones whose
 * socket refuses, or that have no socket (an older secbuild, or a path too
 * long to bind one) and are at least MIN_AGE_MS old and whose PID is not
 * alive here.
 */
import { linkSync, lstatSync, readdirSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { removeRunDir, RUN_DIR_NAME, socketPathFits } from './rundir.js';

export const ALIVE_SOCKET = '.alive';
/**
 * The same socket under a second name, for a run that handed its directory to
 * a keeper (src/run/keeper.ts): node unlinks `.alive` when secbuild exits,
 * this name stays while the keeper holds the socket.
 */
export const KEPT_SOCKET = '.kept';
/** A run binds its socket within microseconds of creating its directory; give it far more. */
const MIN_AGE_MS = 2_000;
const CONNECT_TIMEOUT_MS = 1_000;

/** Starts answering "alive" for the run directory `dir`; resolves to a close function (a no-op if it could not bind). */
export async function listenAlive(dir: string): Promise<() => void> {
  return (await listenAliveHandle(dir)).close;
}

/**
 * listenAlive, and the listening socket's descriptor: a keeper that inherits
 * it (src/run/keeper.ts) keeps the directory "alive" after secbuild exits —
 * the kernel answers a connect while any process holds the socket, and
 * refuses once the last holder is gone. Node unlinks `.alive` when secbuild
 * exits, so `keep()` first links the socket as `.kept`, which the sweep probes too.
 */
export function listenAliveHandle(dir: string): Promise<{ close(): void; keep(): number | undefined }> {
  const none = { close: () => {}, keep: () => undefined };
  const path = join(dir, ALIVE_SOCKET);
  if (!socketPathFits(path)) return Promise.resolve(none);
  return new Promise((resolve) => {
    const server: Server = createServer((socket) => socket.destroy());
    server.once('error', () => resolve(none));
    server.listen(path, () => {
      server.unref();
      const fd = (server as unknown as { _handle?: { fd?: number } })._handle?.fd;
      resolve({
        close: () => server.close(),
        keep: () => {
          if (typeof fd !== 'number' || fd < 0) return undefined;
          linkSync(path, join(dir, KEPT_SOCKET));
          return fd;
        },
      });
    });
  });
}

/** 'alive' when something listens on the socket, 'dead' when it refuses, 'none' when there is no socket. */
async function probe(path: string): Promise<'alive' | 'dead' | 'none'> {
  return new Promise((resolve) => {
    const socket = connect(path);
    const timer = setTimeout(() => done('alive'), CONNECT_TIMEOUT_MS); // a listener too busy to accept is alive
    const done = (state: 'alive' | 'dead' | 'none') => {
      clearTimeout(timer);
      socket.destroy();
      resolve(state);
    };
    socket.once('connect', () => done('alive'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ENOENT' ? 'none' : err.code === 'ECONNREFUSED' ? 'dead' : 'alive'));
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function isStale(path: string, pid: number, mtimeMs: number): Promise<boolean> {
  let state = await probe(join(path, ALIVE_SOCKET));
  if (state === 'none') state = await probe(join(path, KEPT_SOCKET));
  if (state !== 'none') return state === 'dead';
  return Date.now() - mtimeMs >= MIN_AGE_MS && pid !== process.pid && !processAlive(pid);
}

/** Removes run directories under `root` whose run is gone (see the header). Returns what it removed. */
export async function sweepStale(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const uid = process.getuid?.();
  const removed: string[] = [];
  for (const name of names) {
    const m = RUN_DIR_NAME.exec(name);
    if (!m) continue;
    const path = join(root, name);
    let mtimeMs: number;
    try {
      const st = lstatSync(path);
      if (!st.isDirectory() || (uid !== undefined && st.uid !== uid)) continue;
      mtimeMs = st.mtimeMs;
    } catch {
      continue;
    }
    if (!(await isStale(path, Number(m[1]), mtimeMs))) continue;
    removeRunDir(path);
    removed.push(name);
  }
  return removed;
}
