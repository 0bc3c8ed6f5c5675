/**
 * What a fully cached build loads (issue 28): the entry bundle is CommonJS run
 * by src/cli/loader.ts so that a build never starts Node's ES module loader —
 * the first `import()` of anything, even a builtin such as node:net, starts it
 * and costs 3-30 ms on a 2-core machine. Read from node's own
 * `process.moduleLoadList` at exit (a --require preload through NODE_OPTIONS),
 * with the docker stand-in (argv and files only).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { context, runCli, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('hot path of a cached build', () => {
  const box = sandbox();
  const ctx = context('FROM scratch\nRUN --mount=type=secret,id=tok true\n');
  afterAll(() => {
    box.cleanup();
    ctx.cleanup();
  });
  const fake = fakeDocker(box);

  test('a build (argv and files only) starts no ES module loader', async () => {
    const preload = join(box.dir, 'modules.cjs');
    const list = join(box.dir, 'modules.txt');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
    const { env, runs } = fake.record({ HOT_TOKEN: 'hot-path-token-value', NODE_OPTIONS: `--require ${preload}` });
    // The first run detects the engine and writes the code cache; the second is the fully cached build.
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['-q', '--secret', 'id=tok,from=env:HOT_TOKEN', '-t', 'secbuild-cli-hot', ctx.dir], { env });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(runs()).toHaveLength(2);
    const loaded = readFileSync(list, 'utf8').split('\n');
    expect(loaded).toContain('NativeModule net'); // the run's liveness socket: the list is the build's
    expect(loaded.filter((m) => m.startsWith('NativeModule internal/modules/esm/') && !/\/(utils|assert|loader)$/.test(m))).toEqual([]);
  });
});
