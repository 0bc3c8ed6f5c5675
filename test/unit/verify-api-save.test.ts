/**
 * Verify reading the image archive from the daemon's socket
 * (src/verify/api-save.ts): the request `docker save` sends, over HTTP/1.0,
 * the reply's body searched as it streams. A stand-in daemon (a Unix socket
 * server in this process that writes the replies a Docker daemon writes)
 * plays the daemon here, and its test names say so; test/e2e/verify.test.ts
 * reads real daemons' exports.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { archiveSocket } from '../../src/engines/docker/reach.js';
import { minimalEnv } from '../../src/run/env.js';
import { patternsFor } from '../../src/secrets/forms.js';
import { MAX_HEAD_BYTES, messageOf, startApiSave, statusOf } from '../../src/verify/api-save.js';
import { scanStartedSave, startSave } from '../../src/verify/save.js';
import { describeHits } from '../../src/verify/scan.js';
import { Search } from '../../src/verify/search.js';
import { imageArchive } from './verify-helpers.js';

const TOKEN = 'tok_api_7c6b5a4d3e2f1908';
const dir = mkdtempSync(join(tmpdir(), 'secbuild-api-save-'));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const search = () => new Search(patternsFor([{ id: 'tok', value: Buffer.from(TOKEN) }]));
const archive = async () => (await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'app.conf', data: `token=${TOKEN}\n` }] }], config: { os: 'linux' } })).archive;
const ok = (body: Buffer) => Buffer.concat([Buffer.from('HTTP/1.0 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/x-tar\r\nServer: Docker/20.10.24 (linux)\r\n\r\n'), body]);

/** A stand-in daemon on a new socket: `reply` writes to each connection; the request line it read is kept. */
async function standIn(reply: (c: Socket) => unknown): Promise<{ path: string; requests: string[] }> {
  const path = join(dir, `d${servers.length}.sock`);
  const requests: string[] = [];
  const server = createServer((c) => {
    let head = '';
    c.on('data', (d: Buffer) => {
      if (head.includes('\r\n\r\n')) return;
      head += d.toString('latin1');
      if (head.includes('\r\n\r\n')) {
        requests.push(head.split('\r\n')[0]!);
        void reply(c);
      }
    });
    c.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, requests };
}

describe('verify reads the archive from the daemon socket (stand-in daemon)', () => {
  test("stand-in daemon: docker save's request over HTTP/1.0, the reply's head split byte by byte, the body found in", async () => {
    const tar = await archive();
    const { path, requests } = await standIn(async (c) => {
      const all = ok(tar);
      const headEnd = all.indexOf('\r\n\r\n') + 4;
      for (let i = 0; i < headEnd; i++) {
        c.write(all.subarray(i, i + 1));
        if (i % 16 === 0) await sleep(1);
      }
      c.end(all.subarray(headEnd));
    });
    const save = await startSave('docker-not-run', 'registry.local:5000/app:1.0', minimalEnv(process.env), undefined, path);
    expect(save.what).toContain(`unix://${path}`);
    const s = search();
    const scan = await scanStartedSave(save, s);
    expect(requests).toEqual(['GET /images/get?names=registry.local%3A5000%2Fapp%3A1.0 HTTP/1.0']);
    expect(scan.stats.archiveBytes).toBe(tar.length);
    expect(describeHits(s, scan.layout, new Map()).map((h) => [h.path, h.part])).toEqual([['/app.conf', 'content']]);
  });

  test("stand-in daemon: an error reply names the daemon's HTTP status and message, never as a clean scan", async () => {
    const body = '{"message":"no space left on device"}\n';
    const { path } = await standIn((c) => c.end(`HTTP/1.0 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    const save = await startSave('docker-not-run', 'app:1', minimalEnv(process.env), undefined, path);
    await expect(scanStartedSave(save, search())).rejects.toThrow(/GET \/images\/get .* failed \(HTTP 500: no space left on device\)/);
  });

  test('stand-in daemon: a daemon without the image (404) hands over to docker save, which the docker named may run against another daemon (cat FILE stands in for it)', async () => {
    const tar = await archive();
    const file = join(dir, 'elsewhere.tar');
    writeFileSync(file, tar);
    const body = '{"message":"reference does not exist"}\n';
    const { path } = await standIn((c) => c.end(`HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    const save = await startSave('cat', file, minimalEnv(process.env), (f) => [f], path);
    const s = search();
    const scan = await scanStartedSave(save, s);
    expect(save.what).toBe(`\`cat ${file}\``);
    expect(scan.stats.archiveBytes).toBe(tar.length);
    expect(describeHits(s, scan.layout, new Map()).map((h) => h.path)).toEqual(['/app.conf']);
  });

  test('stand-in daemon: without anything to hand over to, a 404 is an error naming it', async () => {
    const body = '{"message":"reference does not exist"}\n';
    const { path } = await standIn((c) => c.end(`HTTP/1.0 404 Not Found\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
    const save = (await startApiSave(path, 'nope:1'))!;
    await expect(scanStartedSave(save, search())).rejects.toThrow(/failed \(HTTP 404: reference does not exist\)/);
  });

  test('stand-in daemon: a connection closed in the middle of the archive is an error, never clean', async () => {
    const tar = await archive();
    const { path } = await standIn((c) => c.end(ok(tar.subarray(0, tar.length >> 1))));
    const save = await startSave('docker-not-run', 'app', minimalEnv(process.env), undefined, path);
    await expect(scanStartedSave(save, search())).rejects.toThrow(/could not be (searched|read)/);
  });

  test('stand-in daemon: a 200 in chunked encoding (what a proxy might send) is an error, never clean', async () => {
    const tar = await archive();
    const chunks = [tar.subarray(0, 700), tar.subarray(700)].map((c) => Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]));
    const { path } = await standIn((c) => c.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'), ...chunks, Buffer.from('0\r\n\r\n')])));
    const save = await startSave('docker-not-run', 'app', minimalEnv(process.env), undefined, path);
    await expect(scanStartedSave(save, search())).rejects.toThrow(/could not be (searched|read)/);
  });

  test('stand-in daemon: a 200 whose body is an empty archive is an error, never clean', async () => {
    const { path } = await standIn((c) => c.end(ok(Buffer.alloc(1024))));
    const save = await startSave('docker-not-run', 'app', minimalEnv(process.env), undefined, path);
    await expect(scanStartedSave(save, search())).rejects.toThrow(/holds no image config/);
  });

  test('stand-in daemon: a connection closed before any reply is an error', async () => {
    const { path } = await standIn((c) => c.end());
    const save = await startSave('docker-not-run', 'app', minimalEnv(process.env), undefined, path);
    await expect(scanStartedSave(save, search())).rejects.toThrow(/closed the connection before it answered|could not be searched/);
  });

  test("stand-in daemon: a reply's head is read up to MAX_HEAD_BYTES, no further", async () => {
    const { path } = await standIn((c) => c.end(`HTTP/1.0 200 OK\r\nX-Fill: ${'a'.repeat(MAX_HEAD_BYTES * 4)}\r\n\r\n`));
    const save = await startSave('docker-not-run', 'app', minimalEnv(process.env), undefined, path);
    await expect(scanStartedSave(save, search())).rejects.toThrow(/head is over/);
  });

  test('stand-in daemon: an export that will not be read is ended without waiting for the daemon', async () => {
    const { path } = await standIn(() => {}); // never answers
    const save = await startApiSave(path, 'app');
    expect(save).toBeDefined();
    const started = Date.now();
    expect((await save!.abort()).code).toBeNull();
    expect(Date.now() - started).toBeLessThan(1000);
  });

  test('nothing accepting at the socket: docker save runs instead (cat FILE stands in for it)', async () => {
    const tar = await archive();
    const file = join(dir, 'fallback.tar');
    writeFileSync(file, tar);
    const save = await startSave('cat', file, minimalEnv(process.env), (f) => [f], join(dir, 'no-such.sock'));
    expect(save.what).toBe(`\`cat ${file}\``);
    const scan = await scanStartedSave(save, search());
    expect(scan.stats.archiveBytes).toBe(tar.length);
  });
});

describe('which socket verify reads from', () => {
  const env = (vars: Record<string, string>) => ({ HOME: join(dir, 'no-home'), ...vars });
  test.each([
    [{}, '/var/run/docker.sock'],
    [{ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, '/run/user/1000/docker.sock'],
    [{ DOCKER_HOST: 'tcp://127.0.0.1:2376' }, undefined],
    [{ DOCKER_HOST: 'ssh://builder@host' }, undefined],
    [{ DOCKER_HOST: 'unix:///var/run/docker.sock', SECBUILD_VERIFY_VIA: 'cli' }, undefined],
  ])('%o → %s', (vars, socket) => {
    expect(archiveSocket(env(vars))).toBe(socket);
  });
});

describe('reply parsing', () => {
  test('status line', () => {
    expect(statusOf('HTTP/1.0 200 OK\r\nA: b')).toBe(200);
    expect(statusOf('HTTP/1.1 500 Internal Server Error')).toBe(500);
    expect(statusOf('SSH-2.0-OpenSSH')).toBe(0);
  });
  test("the daemon's message, printable and bounded", () => {
    expect(messageOf(Buffer.from('{"message":"no such image: x"}'))).toBe('no such image: x');
    expect(messageOf(Buffer.from('plain\x1b[31m text\nsecond'))).toBe('plain [31m text');
    expect(messageOf(Buffer.from('x'.repeat(1000)))).toHaveLength(300);
    expect(messageOf(Buffer.alloc(0))).toBe('no message');
  });
  test("the daemon's message keeps no C1 control either (U+009B is CSI to a UTF-8 terminal)", () => {
    expect(messageOf(Buffer.from('{"message":"no such image: x\u009b31mred\u0085next"}'))).toBe('no such image: x 31mred next');
  });
});
