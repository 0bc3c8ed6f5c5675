/**
 * What a fully cached build loads (issue 28): the entry bundle is CommonJS run
 * by src/cli/loader.ts so that a build never starts Node's ES module loader —
 * the first `import()` of anything, even a builtin such as node:net, starts it
 * and costs 3-30 ms on a 2-core machine. Nor does it load what it does not
 * use: `process.stdin` (a file stream and fs/promises when stdin is
 * /dev/null: 1.6-2.4 ms), the `performance` global (perf_hooks: ~1 ms),
 * node:crypto (~1 ms to load; a docker context's hash and a report file's
 * name need it, a plain build does not) or node:http/https/tls (a provider's
 * client: ~5 ms with the crypto they pull in).
 * Read from node's own `process.moduleLoadList` at exit (a --require preload
 * through NODE_OPTIONS), with the docker stand-in (argv and files only).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CLI, context, sandbox } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

describe('hot path of a cached build', () => {
  const box = sandbox();
  const ctx = context('FROM scratch\nRUN --mount=type=secret,id=tok true\n');
  afterAll(() => {
    box.cleanup();
    ctx.cleanup();
  });
  const fake = fakeDocker(box);

  test('a build (argv and files only) starts no ES module loader, no stdin stream, no perf_hooks, no crypto or http', async () => {
    const preload = join(box.dir, 'modules.cjs');
    const list = join(box.dir, 'modules.txt');
    writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
    const { env, runs } = fake.record({ HOT_TOKEN: 'hot-path-token-value', NODE_OPTIONS: `--require ${preload}` });
    // The first run detects the engine and writes the code cache; the second is the fully cached build.
    // stdin is /dev/null, as under the bench and in most CI steps.
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, [CLI, '-q', '--secret', 'id=tok,from=env:HOT_TOKEN', '-t', 'secbuild-cli-hot', ctx.dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.stdout.resume();
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code, stderr).toBe(0);
    }
    expect(runs()).toHaveLength(2);
    const loaded = readFileSync(list, 'utf8').split('\n');
    expect(loaded).toContain('NativeModule net'); // the run's liveness socket: the list is the build's
    expect(loaded.filter((m) => m.startsWith('NativeModule internal/modules/esm/') && !/\/(utils|assert|loader)$/.test(m))).toEqual([]);
    expect(loaded.filter((m) => ['NativeModule internal/fs/promises', 'NativeModule internal/fs/streams', 'NativeModule internal/perf/performance'].includes(m))).toEqual([]);
    expect(loaded.filter((m) => /^NativeModule (crypto|internal\/crypto\/.*|https?|_http_\w+|tls|_tls_\w+)$/.test(m))).toEqual([]);
  });
});
