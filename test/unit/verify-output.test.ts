/**
 * --verify of a build's filesystem output (src/verify/output.ts): no archive
 * lane covers a directory's files or a filesystem tar, so their content is
 * searched by the walk itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { patternsFor } from '../../src/secrets/forms.js';
import { verifyOutput } from '../../src/verify/output.js';

const VALUE = 'out-value-9f3c1a7e';
const targets = { patterns: patternsFor([{ id: 'tok', value: Buffer.from(VALUE) }]), sources: new Map([['tok', 'env:TOK']]) };
const dir = mkdtempSync(join(tmpdir(), 'secbuild-unit-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rootfs(name: string): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'hostname'), 'box\n');
  writeFileSync(join(root, 'leaked'), VALUE); // a short plain file, as `cp /run/secrets/tok /leaked` writes
  return root;
}

test('type=local: a plain file holding the value is a hit named by its path', async () => {
  const r = await verifyOutput({ kind: 'files', path: rootfs('local'), flag: '-o type=local' }, targets);
  expect(r.clean).toBe(false);
  expect(r.hits.map((h) => h.where)).toEqual([expect.stringMatching(/: leaked$/)]);
});

test('type=tar: an entry holding the value is a hit named by the entry', async () => {
  const root = rootfs('tar-src');
  const tar = join(dir, 'out.tar');
  execFileSync('tar', ['-cf', tar, '-C', root, '.']);
  const r = await verifyOutput({ kind: 'files', path: tar, flag: '-o type=tar' }, targets);
  expect(r.clean).toBe(false);
  expect(r.hits.map((h) => h.where)).toEqual([expect.stringMatching(/: \/?leaked$/)]);
});

test('a clean directory is clean', async () => {
  const root = join(dir, 'clean');
  mkdirSync(root);
  writeFileSync(join(root, 'a'), 'nothing here');
  expect((await verifyOutput({ kind: 'files', path: root, flag: '-o type=local' }, targets)).clean).toBe(true);
});
