/**
 * `npm run demo` (scripts/demo.mjs) where it cannot build: it says the one
 * thing to install or run and exits 2 (issue 11 item 5). The docker stand-in
 * answers the version probes only; these tests check the demo's decisions
 * (argv and files only). The demo's real build is test/e2e/readme.test.ts.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ROOT, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';
import { spawnSync } from 'node:child_process';

const demo = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [join(ROOT, 'scripts', 'demo.mjs')], { env, encoding: 'utf8', timeout: 60_000 });

describe('npm run demo stops with the fix (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  afterAll(() => box.cleanup());

  test('a 23+ docker CLI without buildx: exit 2, names docker.io and the missing Debian package (argv and files only)', () => {
    const r = demo(fake.record({ FAKE_CLIENT_VERSION: '28.2.2' }).env);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^demo: \S+ cannot build with BuildKit .*sudo apt-get install docker\.io.*Debian 12 has no docker-buildx package/m);
  });

  test('no daemon: exit 2, says how to start one (argv and files only)', () => {
    const r = demo(fake.record().env);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^demo: no Docker daemon answers through \S+ .*sudo systemctl start docker.*sudo bash \.ci\/provision\.sh/m);
  });
});
