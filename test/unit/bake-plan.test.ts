/**
 * The key of `secbuild bake`'s plan cache (src/pipeline/bake-plan.ts planKey):
 * what changes it, what does not, and which inputs are never cached.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { planKey } from '../../src/pipeline/bake-plan.js';
import type { ChildEnv } from '../../src/run/env.js';

const dir = mkdtempSync(join(tmpdir(), 'secbuild-bake-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const HCL = 'variable "TAG" { default = "dev" }\ntarget "a" { tags = ["x:${TAG}"] }\n';
writeFileSync(join(dir, 'docker-bake.hcl'), HCL);
const env = (vars: Record<string, string> = {}) => ({ PATH: '/usr/bin', ...vars }) as unknown as ChildEnv;
const args = (over: Partial<{ files: string[]; bakeArgs: string[]; targets: string[] }> = {}) => ({ files: [], bakeArgs: [], targets: [], ...over });
const key = (a = args(), e = env(), cwd = dir) => {
  const k = planKey(a, '/usr/bin/docker', e, cwd);
  return 'key' in k ? `${k.key}\n${k.files}` : `uncached: ${k.uncached}`;
};

describe('bake plan key', () => {
  const base = key();
  test('is a digest and the files\' text, the same for the same inputs', () => {
    expect(base).toMatch(/^[0-9a-f]{64}\n/);
    expect(base).toContain(HCL);
    expect(key()).toBe(base);
  });

  test.each([
    ['a variable the file names', args(), env({ TAG: 'v1' })],
    ['a BUILDX_ variable', args(), env({ BUILDX_BAKE_ENTITLEMENTS_FS: '0' })],
    ['SOURCE_DATE_EPOCH', args(), env({ SOURCE_DATE_EPOCH: '1' })],
    ['a target list', args({ targets: ['a'] }), env()],
    ['a bake option', args({ bakeArgs: ['--set', 'a.tags=y'] }), env()],
  ])('changes with %s', (_, a, e) => {
    expect(key(a, e)).not.toBe(base);
  });

  test('does not change with a variable no bake file names', () => {
    expect(key(args(), env({ UNRELATED: '1' }))).toBe(base);
  });

  test("changes with the file's bytes and with a .env file", () => {
    writeFileSync(join(dir, 'docker-bake.hcl'), `${HCL}# more\n`);
    const changed = key();
    writeFileSync(join(dir, 'docker-bake.hcl'), HCL);
    expect(changed).not.toBe(base);
    expect(key()).toBe(base);
    writeFileSync(join(dir, '.env'), 'TAG=v2\n');
    expect(key()).not.toBe(base);
    rmSync(join(dir, '.env'));
  });

  test.each([
    ['a compose file', args({ files: ['compose.yaml'] }), 'is not an HCL or JSON bake file'],
    ['stdin', args({ files: ['-'] }), 'is not an HCL or JSON bake file'],
    ['a missing file', args({ files: ['nope.hcl'] }), 'cannot be read'],
    ['a directory', args({ files: ['.'] }), 'is not an HCL or JSON bake file'],
    ['a remote definition', args({ targets: ['https://github.com/o/r.git'] }), 'not a plain name'],
  ])('is not made for %s', (_, a, why) => {
    expect(key(a)).toContain(why);
  });

  test('is not made without a bake file, or for an HCL function whose answer changes by itself', () => {
    const empty = mkdtempSync(join(tmpdir(), 'secbuild-bake-plan-'));
    expect(key(args(), env(), empty)).toContain('no bake file');
    writeFileSync(join(empty, 'docker-bake.hcl'), 'variable "T" { default = timestamp() }\n');
    expect(key(args(), env(), empty)).toContain('changes between runs');
    rmSync(empty, { recursive: true, force: true });
  });
});
