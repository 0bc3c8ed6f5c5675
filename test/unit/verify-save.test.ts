/**
 * Reading a started `docker save` from its first byte whatever the
 * archive's size (issue 22 item 10). `startSave()` starts the engine early
 * (other probes run meanwhile); an archive small enough to fit the pipe was
 * written whole and the child gone before the scan read a byte, and Node
 * drained (resumed and discarded) the unread stdout of the exited child:
 * "docker save printed nothing". Here `cat FILE` stands in for the engine's
 * save argv — a real process that prints a small image archive and exits at
 * once; no fake docker is involved.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, test } from 'vitest';
import { minimalEnv } from '../../src/run/env.js';
import { patternsFor } from '../../src/secrets/forms.js';
import { scanStartedSave, startSave } from '../../src/verify/save.js';
import { describeHits, verifyImage } from '../../src/verify/scan.js';
import { Search } from '../../src/verify/search.js';
import { imageArchive } from './verify-helpers.js';

const TOKEN = 'tok_small_5d4c3b2a190817';
const dir = mkdtempSync(join(tmpdir(), 'secbuild-verify-save-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a started save is read from its first byte', () => {
  test.each([0, 300])('a 10 KiB archive whose writer exited %i ms before the scan began', async (delay) => {
    const { archive } = await imageArchive({ layout: 'docker', layers: [{ entries: [{ name: 'app.conf', data: `token=${TOKEN}\n` }] }], config: { os: 'linux' } });
    expect(archive.length).toBeLessThan(80 << 10);
    const file = join(dir, `small-${delay}.tar`);
    writeFileSync(file, archive);
    const save = await startSave('cat', file, minimalEnv(process.env), (f) => [f]);
    // What verifyImage does meanwhile: docker image inspect, resolving the secrets.
    await sleep(delay);
    const search = new Search(patternsFor([{ id: 'tok', value: Buffer.from(TOKEN) }]));
    const scan = await scanStartedSave(save, search);
    expect(scan.stats.archiveBytes).toBe(archive.length);
    expect(describeHits(search, scan.layout, new Map()).map((h) => [h.path, h.part])).toEqual([['/app.conf', 'content']]);
  });
});

describe('a started save is read in large pieces', () => {
  // The pipe's 32-64 KiB chunks cost verify 230-300 ms of CPU per 300 MB (src/run/bulk-stdout.ts).
  test('a 3 MiB output arrives whole, in pieces over 64 KiB', async () => {
    const file = join(dir, 'big.bin');
    const data = Buffer.alloc(3 << 20, 7);
    writeFileSync(file, data);
    const save = await startSave('cat', file, minimalEnv(process.env), (f) => [f]);
    const sizes: number[] = [];
    for await (const piece of save.stdout) sizes.push(piece.length);
    expect((await save.exited).code).toBe(0);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(data.length);
    expect(Math.max(...sizes)).toBeGreaterThan(64 << 10);
  });
});

describe('a started save that will not be read is ended, never waited on (issue 24)', () => {
  // `head -c 8M /dev/zero` stands in for docker save: a real process whose output fills the pipe and
  // Node's buffer, then blocks until read. verifyImage's image lookup (`head image inspect …`) fails too.
  test.each([
    ['the secrets', 'nothing to search'],
    ['the image lookup', undefined],
  ])('verifyImage returns the error promptly when %s fail(s) after the save started', async (_what, targetsError) => {
    const started = Date.now();
    const run = verifyImage({
      docker: 'head',
      save: () => ['-c', '8388608', '/dev/zero'],
      image: 'img',
      env: minimalEnv(process.env),
      targets: async () => {
        await sleep(300);
        if (targetsError) throw new Error(targetsError);
        return { patterns: patternsFor([{ id: 'tok', value: Buffer.from(TOKEN) }]), sources: new Map() };
      },
    });
    await expect(Promise.race([run, sleep(10_000).then(() => 'still waiting')])).rejects.toThrow(targetsError ?? /head/);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 15_000);
});
