/**
 * The README's quick start, literally (issue 11 item 5): the commands of its
 * "Quick start" block are read from README.md, so this fails when the README
 * drifts. In a fresh clone of this checkout, the first (`npm ci && npm run
 * demo`) must install, build examples/hello with a generated secret, verify
 * the image and say so; the base image it needs is a throwaway name here, so
 * the demo's own import from busybox-static runs too. The second is the test
 * command: it must be the one .ci/run calls (running the whole suite inside
 * itself would recurse, so it is not run here).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { nonce, ROOT } from '../helpers/cli.js';
import { describeE2E, docker } from '../helpers/e2e.js';

/** The `$ ` lines of the first console block under "## Quick start". */
function quickStart(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split('\n## Quick start\n')[1]?.split('\n## ')[0] ?? '';
  const block = /```console\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2));
}

describe('README quick start', () => {
  test('is exactly two commands, and the second is the one .ci/run calls', () => {
    const commands = quickStart();
    expect(commands).toEqual(['npm ci && npm run demo', 'npm test']);
    expect(readFileSync(join(ROOT, '.ci', 'run'), 'utf8')).toMatch(new RegExp(`^\\s*${commands[1]}$`, 'm'));
  });

  describeE2E('in a fresh clone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secbuild-e2e-readme-'));
    const image = `secbuild-e2e-readme-hello:${nonce()}`;
    const base = `secbuild-e2e-readme-base:${nonce()}`;
    afterAll(async () => {
      await docker(['image', 'rm', '-f', image, base]);
      rmSync(dir, { recursive: true, force: true });
    });

    test('the first command builds examples/hello with a generated secret and verifies it', { timeout: 600_000 }, () => {
      const clone = join(dir, 'secbuild');
      execFileSync('git', ['clone', '-q', ROOT, clone]);
      const env: NodeJS.ProcessEnv = { ...process.env, SECBUILD_DEMO_IMAGE: image, SECBUILD_DEMO_LOCAL_BASE: base };
      // The demo finds a docker CLI itself; only a tier pointed at another one says which.
      if (process.env.SECBUILD_E2E_DOCKER) env.SECBUILD_DOCKER = process.env.SECBUILD_E2E_DOCKER;
      else delete env.SECBUILD_DOCKER;
      const r = spawnSync('bash', ['-c', quickStart()[0]!], { cwd: clone, env, encoding: 'utf8', timeout: 590_000 });
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^demo: base image: importing .* from \/bin\/busybox/m);
      expect(r.stdout + r.stderr).toMatch(/greeting is 29 bytes/);
      expect(r.stderr).toMatch(/verify: \S+: clean;/);
      expect(r.stdout).toMatch(/^demo: done: /m);
    });
  });
});
