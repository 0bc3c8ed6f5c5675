/**
 * The sweep and the liveness it proves (src/run/liveness.ts): only run
 * directories secbuild could have created (name, a real directory, our own)
 * are ever removed, and of those only the ones whose run is gone — a refused
 * `.alive` socket, or no socket, an old directory and a dead pid. A live run
 * in another PID namespace, whose pid means nothing here, is never touched.
 * The other-owner case chowns to uid 65534 and needs root (CI runs as root).
 */
import { spawn } from 'node:child_process';
import { chownSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ALIVE_SOCKET, KEPT_SOCKET, listenAlive, listenAliveHandle, sweepStale } from '../../src/run/liveness.js';
import { skipUnlessCI } from '../helpers/ci.js';
import { deadPid } from '../helpers/dead-pid.js';

const asRoot = !skipUnlessCI(process.getuid?.() !== 0 && 'it chowns to uid 65534, which needs root', 'liveness: the other-owner case');
const NOBODY = 65534;

let base: string;
beforeAll(() => {
  base = mkdtempSync(join('/dev/shm', 'secbuild-unit-liveness-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

let n = 0;
function dir(): string {
  const path = join(base, `d${n++}`);
  mkdirSync(path, { mode: 0o700 });
  return path;
}

/** Backdated past the sweep's minimum age, as a dead run's directory is. */
const old = (path: string) => utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));

describe('sweepStale', () => {
  let live: ReturnType<typeof spawn>;
  let dead: number;
  beforeAll(() => {
    live = spawn('sleep', ['60'], { stdio: 'ignore' });
    dead = deadPid();
  });
  afterAll(() => {
    live.kill();
  });

  type Make = (root: string, name: string) => void;
  const privateDir: Make = (root, name) => {
    mkdirSync(join(root, name), { mode: 0o700 });
    writeFileSync(join(root, name, '00-tok'), 'left behind');
    old(join(root, name));
  };
  const notOurs: Make = (root, name) => {
    privateDir(root, name);
    chownSync(join(root, name), NOBODY, NOBODY);
  };
  const file: Make = (root, name) => writeFileSync(join(root, name), 'a file');
  const linkToDir: Make = (root, name) => symlinkSync(dir(), join(root, name));

  test.each<[string, (pids: { dead: number; live: number }) => string, Make, boolean]>([
    ['ours, of a dead pid', ({ dead }) => `secbuild-${dead}-AbC123`, privateDir, true],
    ['ours, of a live pid', ({ live }) => `secbuild-${live}-AbC123`, privateDir, false],
    ['ours, of this very process', () => `secbuild-${process.pid}-AbC123`, privateDir, false],
    ['a suffix of 5 characters', ({ dead }) => `secbuild-${dead}-AbC12`, privateDir, false],
    ['a suffix of 7 characters', ({ dead }) => `secbuild-${dead}-AbC1234`, privateDir, false],
    ['a suffix with a dot', ({ dead }) => `secbuild-${dead}-AbC.23`, privateDir, false],
    ['a name with a tail', ({ dead }) => `secbuild-${dead}-AbC123.bak`, privateDir, false],
    ['no pid', () => 'secbuild-x-AbC123', privateDir, false],
    ['another prefix', ({ dead }) => `secbuilder-${dead}-AbC123`, privateDir, false],
    ['secbuild\'s test sandboxes', () => 'secbuild-e2e-AbC123', privateDir, false],
    ['a regular file with the name', ({ dead }) => `secbuild-${dead}-AbC123`, file, false],
    ['a symlink to a directory with the name', ({ dead }) => `secbuild-${dead}-AbC123`, linkToDir, false],
  ])('%s: removed=%s', async (_name, name, make, removed) => {
    const root = dir();
    const entry = name({ dead, live: live.pid! });
    make(root, entry);
    expect(await sweepStale(root)).toEqual(removed ? [entry] : []);
    if (removed) expect(() => lstatSync(join(root, entry))).toThrow(/ENOENT/);
    else expect(lstatSync(join(root, entry))).toBeDefined();
  });

  test.skipIf(!asRoot)('another user\'s run directory of a dead pid is left alone', async () => {
    const root = dir();
    const entry = `secbuild-${dead}-NoB0dy`;
    notOurs(root, entry);
    expect(await sweepStale(root)).toEqual([]);
    expect(readFileSync(join(root, entry, '00-tok'), 'utf8')).toBe('left behind');
  });

  test('what it removes is zeroed first, like a run\'s own removal', async () => {
    const root = dir();
    const entry = `secbuild-${dead}-ZeR0ed`;
    privateDir(root, entry);
    const link = join(root, 'hard-link');
    linkSync(join(root, entry, '00-tok'), link);
    expect(await sweepStale(root)).toEqual([entry]);
    expect(readFileSync(link)).toEqual(Buffer.alloc('left behind'.length));
  });

  test('a root that cannot be read sweeps nothing and does not throw', async () => {
    expect(await sweepStale(join(base, 'no-such-root'))).toEqual([]);
  });
});


describe('liveness across PID namespaces: the .alive socket', () => {
  test('a run directory whose socket answers is kept, whatever its pid says (another namespace)', async () => {
    const root = dir();
    const entry = `secbuild-${deadPid()}-L1veNs`;
    mkdirSync(join(root, entry), { mode: 0o700 });
    writeFileSync(join(root, entry, '00-tok'), 'in use');
    old(join(root, entry));
    const close = await listenAlive(join(root, entry));
    try {
      expect(await sweepStale(root)).toEqual([]);
      expect(readFileSync(join(root, entry, '00-tok'), 'utf8')).toBe('in use');
    } finally {
      close();
    }
  });

  /** A process that listens on the run's socket: what a run does; `kill` it with SIGKILL and the socket file stays. */
  async function listener(run: string): Promise<ReturnType<typeof spawn>> {
    const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(join(run, ALIVE_SOCKET))}, () => process.stdout.write('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((r) => child.stdout!.once('data', r));
    return child;
  }

  test('a run directory whose socket refuses (its run was SIGKILLed) is removed, even when its pid is alive here', async () => {
    const root = dir();
    const entry = `secbuild-${process.ppid}-Dead50`;
    mkdirSync(join(root, entry), { mode: 0o700 });
    const child = await listener(join(root, entry));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(lstatSync(join(root, entry, ALIVE_SOCKET)).isSocket()).toBe(true);
    expect(await sweepStale(root)).toEqual([entry]);
  });

  test('a directory handed to a keeper stays while the keeper holds the socket as .kept (secbuild gone, .alive unlinked), and goes after', async () => {
    const root = dir();
    const entry = `secbuild-${deadPid()}-Kept01`;
    mkdirSync(join(root, entry), { mode: 0o700 });
    old(join(root, entry));
    const alive = await listenAliveHandle(join(root, entry));
    const fd = alive.keep();
    expect(fd).toBeTypeOf('number');
    const keeper = spawn('sleep', ['60'], { stdio: ['ignore', 'ignore', 'ignore', fd!] });
    alive.close(); // as secbuild's exit does: node unlinks .alive
    expect(() => lstatSync(join(root, entry, ALIVE_SOCKET))).toThrow();
    expect(lstatSync(join(root, entry, KEPT_SOCKET)).isSocket()).toBe(true);
    expect(await sweepStale(root)).toEqual([]);
    keeper.kill('SIGKILL');
    await new Promise((r) => keeper.once('exit', r));
    expect(await sweepStale(root)).toEqual([entry]);
  });

  test('a fresh directory without a socket yet (a run between mkdtemp and listen) is kept', async () => {
    const root = dir();
    const entry = `secbuild-${deadPid()}-Fresh0`;
    mkdirSync(join(root, entry), { mode: 0o700 });
    expect(await sweepStale(root)).toEqual([]);
  });

  test('a stopped run (SIGSTOP) still answers: the kernel accepts for a listener that is not running', async () => {
    const root = dir();
    const entry = `secbuild-${deadPid()}-St0pd1`;
    mkdirSync(join(root, entry), { mode: 0o700 });
    old(join(root, entry));
    const child = await listener(join(root, entry));
    child.kill('SIGSTOP');
    try {
      expect(await sweepStale(root)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
