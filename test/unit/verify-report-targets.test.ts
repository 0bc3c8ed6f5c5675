/**
 * bake --verify with --report: each target's search result lands in that
 * target's `targets` entry (src/pipeline/verify-step.ts recordVerify), not in
 * the run's one `verify`, which the next target would overwrite. Real
 * searches of two output directories (no daemon): one clean, one leaking.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { Engine } from '../../src/engines/engine.js';
import { newReport } from '../../src/pipeline/report.js';
import { verifyBuilt } from '../../src/pipeline/verify-step.js';
import { Secret } from '../../src/secrets/secret.js';
import { LeakError } from '../../src/util/errors.js';

const VALUE = 'per-target-value-5c1e9a';
const dir = mkdtempSync(join(tmpdir(), 'secbuild-unit-targets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function rootfs(name: string, leak: boolean): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'hostname'), 'box\n');
  if (leak) writeFileSync(join(root, 'leaked'), VALUE);
  return root;
}

test('--report: one verify result per bake target, the clean one kept when the next target leaks', async () => {
  const report = newReport('bake', 'test');
  report.targets = [{ target: 'api', secrets: ['tok'] }, { target: 'web', secrets: ['tok'] }];
  const built = [
    { kind: 'files' as const, path: rootfs('api', false), flag: 'target "api"', target: 'api' },
    { kind: 'files' as const, path: rootfs('web', true), flag: 'target "web"', target: 'web' },
  ];
  const values = [new Secret('tok', 'env:TOK', Buffer.from(VALUE))];
  // The engine is only used for images; these are directories.
  await expect(verifyBuilt({ engine: {} as Engine, built, env: {} as never, values, report })).rejects.toBeInstanceOf(LeakError);
  expect(report.verify).toBeUndefined();
  expect(report.targets.map((t) => [t.target, t.secrets, t.verify?.clean])).toEqual([
    ['api', ['tok'], true],
    ['web', ['tok'], false],
  ]);
  expect(report.targets[1]!.verify!.hits.map((h) => h.secret)).toEqual(['tok']);
  expect(JSON.stringify(report)).not.toContain(VALUE);
});
