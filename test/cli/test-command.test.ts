/**
 * The README's test command (`npm test`, scripts/test.mjs) on a machine with
 * nothing but Node, and what its summary line says:
 *
 * - with no docker, no podman and no D-Bus, and CI unset, every e2e file
 *   loads (a describe block whose fixture is absent must not be collected at
 *   all: vitest runs a skipped describe's body), the tier skips with exactly
 *   one reason line, the exit code is 0, and nothing is left in the
 *   sandboxes' root (SECBUILD_TEST_SHM, else /dev/shm) or in TMPDIR;
 * - a test file that fails to load counts as a failure in the summary line
 *   (vitest counts it as neither passed nor failed), so the summary never
 *   says "0 failed" with a non-zero exit.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.js';

/** The environment of a nested run: this one's, without what vitest and CI set here. */
function nestedEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(VITEST|CI$|TEST$|NODE_ENV$|DBUS_SESSION_BUS_ADDRESS$|FORCE_COLOR$)/.test(k)) env[k] = v;
  return { ...env, FORCE_COLOR: '0', NO_COLOR: '1', ...extra };
}

const summary = (out: string) => out.split('\n').filter((l) => /^(tests|skipped|not run|failed to load): /.test(l));

describe('npm test (scripts/test.mjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-cli-testcmd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('with no daemon, no podman and no D-Bus, the e2e tier loads every file, skips with one reason line and exit 0, and leaves nothing behind', { timeout: 180_000 }, () => {
    const shm = mkdtempSync(join('/dev/shm', 'secbuild-cli-testcmd-'));
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'test.mjs'), '--project', 'e2e'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 170_000,
        env: nestedEnv({
          SECBUILD_E2E_DOCKER: join(dir, 'no-docker'),
          SECBUILD_E2E_PODMAN: join(dir, 'no-podman'),
          DOCKER_HOST: `unix://${join(dir, 'no-daemon.sock')}`,
          SECBUILD_TEST_SHM: shm,
          TMPDIR: tmp,
        }),
      });
      const out = `${r.stdout}\n${r.stderr}`;
      expect(r.status, out).toBe(0);
      const lines = summary(r.stdout);
      expect(lines[0], out).toMatch(/^tests: \d+ ran: \d+ passed, 0 failed, [1-9]\d* skipped/);
      expect(lines.filter((l) => l.startsWith('skipped: ')), out).toEqual([expect.stringMatching(/^skipped: \[e2e\] SKIPPED: \S+no-docker does not exist/)]);
      expect(out).not.toMatch(/Failed Suites|failed to load/i);
      expect(readdirSync(shm)).toEqual([]);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(shm, { recursive: true, force: true });
    }
  });

  /** A project of unit files, run by a copy of scripts/test.mjs with this checkout's vitest. */
  function runProject(name: string, files: Record<string, string>) {
    const project = join(dir, name);
    mkdirSync(join(project, 'scripts'), { recursive: true });
    mkdirSync(join(project, 'test', 'unit'), { recursive: true });
    copyFileSync(join(ROOT, 'scripts', 'test.mjs'), join(project, 'scripts', 'test.mjs'));
    symlinkSync(join(ROOT, 'node_modules'), join(project, 'node_modules'));
    writeFileSync(join(project, 'package.json'), '{ "type": "module" }\n');
    writeFileSync(join(project, 'vitest.config.ts'), "export default { test: { projects: [{ test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } }] } };\n");
    for (const [file, text] of Object.entries(files)) writeFileSync(join(project, 'test', 'unit', file), text);
    return spawnSync(process.execPath, [join(project, 'scripts', 'test.mjs')], { cwd: project, encoding: 'utf8', timeout: 50_000, env: nestedEnv({}) });
  }

  test('a test file that fails to load counts as failed, and the summary names it', { timeout: 60_000 }, () => {
    const r = runProject('project', {
      'ok.test.ts': "import { expect, test } from 'vitest';\ntest('passes', () => expect(1).toBe(1));\n",
      'broken.test.ts': "import { describe, test } from 'vitest';\nconst fixture: { info?: { dir: string } } = {};\ndescribe.skipIf(true)('needs a fixture', () => {\n  const dir = fixture.info!.dir;\n  test('uses it', () => void dir);\n});\n",
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(1);
    const lines = summary(r.stdout);
    expect(lines[0], out).toMatch(/^tests: 1 ran: 1 passed, 1 failed \(1 file failed to load\), 0 skipped/);
    expect(lines, out).toContain('failed to load: test/unit/broken.test.ts');
    expect(lines.join('\n')).not.toMatch(/\b0 failed/);
  });

  test('a skip line is "WHAT SKIPPED: why" as test/helpers/ci.ts prints it; a failing test whose message quotes "… skipped: …" is not one', { timeout: 60_000 }, () => {
    const r = runProject('project-skips', {
      'skips.test.ts': "import { expect, test } from 'vitest';\nprocess.stdout.write('things: the thing SKIPPED: no thing here\\n');\ntest('quotes', () => expect('secbuild: preflight skipped: the Dockerfile comes from stdin').toBe(''));\n",
    });
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(1);
    expect(summary(r.stdout).filter((l) => l.startsWith('skipped: ')), out).toEqual(['skipped: things: the thing SKIPPED: no thing here']);
  });
});
