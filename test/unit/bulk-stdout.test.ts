/**
 * A child's stdout read into one reused 1 MiB buffer (src/run/bulk-stdout.ts):
 * every byte arrives, in order, in pieces larger than a pipe's 64 KiB, also
 * when the consumer is slow (reading pauses and resumes) and when the child
 * exits before the first piece is asked for. The child is a real `sh` that
 * writes a file; the consumer copies each piece before asking for the next,
 * as the contract allows no more.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { bulkStdout } from '../../src/run/bulk-stdout.js';

const dir = mkdtempSync(join(tmpdir(), 'secbuild-bulk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(script: string, slow: boolean): Promise<{ bytes: Buffer; sizes: number[] }> {
  const bulk = await bulkStdout();
  expect(bulk).toBeDefined();
  const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', bulk!.childEnd, 'inherit'] });
  bulk!.handedOver();
  const exited = new Promise((resolve) => child.on('close', resolve));
  const copies: Buffer[] = [];
  for await (const piece of bulk!.pieces) {
    copies.push(Buffer.from(piece));
    piece.fill(0); // the producer may reuse it: nothing may depend on it now
    if (slow) await sleep(2);
  }
  expect(await exited).toBe(0);
  return { bytes: Buffer.concat(copies), sizes: copies.map((c) => c.length) };
}

describe('bulkStdout', () => {
  const data = randomBytes(5 << 20);
  const file = join(dir, 'data.bin');
  writeFileSync(file, data);

  test.each([false, true])('5 MiB through sh -c cat, slow consumer %s: every byte, in order, in pieces over 64 KiB', async (slow) => {
    const { bytes, sizes } = await readAll(`cat '${file}'; printf end`, slow);
    expect(bytes.equals(Buffer.concat([data, Buffer.from('end')]))).toBe(true);
    expect(Math.max(...sizes)).toBeGreaterThan(64 << 10);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1 << 20);
  });

  test('a child that wrote a little and exited before the first piece was asked for', async () => {
    const bulk = await bulkStdout();
    const child = spawn('/bin/sh', ['-c', 'printf small'], { stdio: ['ignore', bulk!.childEnd, 'inherit'] });
    bulk!.handedOver();
    await new Promise((resolve) => child.on('close', resolve));
    await sleep(100);
    const pieces: string[] = [];
    for await (const piece of bulk!.pieces) pieces.push(Buffer.from(piece).toString());
    expect(pieces.join('')).toBe('small');
  });

  test('a child that prints nothing: no piece', async () => {
    const { bytes } = await readAll('true', false);
    expect(bytes.length).toBe(0);
  });
});
