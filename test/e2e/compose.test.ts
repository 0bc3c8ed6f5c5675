/**
 * `secbuild compose build`, end to end.
 *
 * Direct engine (forced with --engine direct; Compose v2 is installed): the
 * built CLI against the real daemon — the example project, a two-file project
 * with interpolation and every secret source, a failing build, SIGINT and
 * SIGKILL mid-build; the private secret root is checked empty after each.
 *
 * Compose engine: the real Compose v2 (2.26, from trixie; .ci/provision.sh):
 * its output masked, its exit code passed through, SIGINT/SIGTERM/SIGKILL
 * while it builds. The argv and files of the compose engine, --dry-run and the
 * errors that stop a run before docker are daemon-free: test/cli/compose.test.ts.
 * Delivery through Compose on both daemons: test/e2e/engines.test.ts.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { BASE, containsBytes, listDir, pidsMatching, ROOT, runCli, sandbox, startCli, tree, waitFor } from '../helpers/cli.js';
import { FLAGS, ID, leakedValues, NETRC, NPMRC, PIP, PROJECT, SECRET_ENV, sha, V, VALUES } from '../helpers/compose-project.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';
import { composeV2 } from '../helpers/engines.js';

describeE2E('compose build, direct engine', () => {
  const box = sandbox();
  const env = baseEnv(box, SECRET_ENV);
  const proj = tree(PROJECT);
  const images: string[] = [];
  afterAll(async () => {
    await docker(['rmi', '-f', ...images, 'secbuild-example-api', 'secbuild-example-web']);
    proj.cleanup();
    box.cleanup();
  });

  test('examples/compose builds as its README says (both services, no value printed), with a --report', async () => {
    const reportFile = join(box.dir, 'compose-report.json');
    const r = await runCli(['compose', '--engine', 'direct', 'build', '--progress=plain', '--no-cache', '--report', reportFile], {
      env: baseEnv(box, { GITHUB_TOKEN: V.gh, NPM_TOKEN: V.npm, SENTRY_AUTH_TOKEN: V.tok, BASE_IMAGE: BASE }),
      cwd: join(ROOT, 'examples', 'compose'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("compose engine: direct (--engine direct)");
    expect(r.stderr).toContain('web: .npmrc and .sentryclirc are mounted');
    expect(leakedValues(r.stdout + r.stderr)).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
    const text = readFileSync(reportFile, 'utf8');
    expect(leakedValues(text)).toEqual([]);
    const rep = JSON.parse(text);
    expect(rep).toMatchObject({ command: 'compose', exitCode: 0, engine: { compose: 'direct', buildkit: 'legacy-env' }, masking: { enabled: true } });
    expect(rep.runs.map((x: { service: string; exitCode: number }) => [x.service, x.exitCode])).toEqual([['api', 0], ['web', 0]]);
    expect(rep.runs[1].argv.join(' ')).toMatch(/--secret id=npmrc,src=\S+ .*-t secbuild-example-web/);
    expect(rep.secrets.filter((x: { mounted: boolean }) => x.mounted).map((x: { id: string }) => x.id).sort()).toEqual(['netrc', 'npmrc', 'sentryclirc']);
    expect(rep.timings.map((t: { phase: string }) => t.phase)).toEqual(expect.arrayContaining(['start', 'preflight', 'resolve', 'files', 'docker']));
  });

  test('two -f files, .env and ${…} interpolation, every secret source: built in depends_on order, byte-exact, no value leaked', async () => {
    const r = await runCli(['compose', '--engine', 'direct', '-f', 'compose.yaml', '-f', 'compose.ci.yaml', 'build', '--progress=plain', ...FLAGS], { env, cwd: proj.dir });
    const [api, web] = [`secbuild-e2e-${ID}-api`, `secbuild-e2e-${ID}-web`];
    images.push(api, web);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr.indexOf('building service "api"')).toBeLessThan(r.stderr.indexOf('building service "web"'));
    expect(listDir(box.tmp)).toEqual([]);
    const hashes = async (image: string) =>
      Object.fromEntries((await docker(['run', '--rm', image, 'cat', '/hashes'])).stdout.toString().trim().split('\n').map((l) => l.split(/\s+/).reverse()));
    expect(await hashes(api)).toEqual({ '/root/.netrc': sha(NETRC) });
    expect(await hashes(web)).toEqual({
      '/run/secrets/npmrc': sha(NPMRC), '/run/secrets/pip_conf': sha(PIP), '/run/secrets/filetok': sha(V.fileTok), '/run/secrets/env_tok': sha(V.envTok),
    });
    expect((await docker(['run', '--rm', web, 'cat', '/greeting'])).stdout.toString()).toBe('${NOT_INTERPOLATED} from ci\n');
    const labels = JSON.parse((await docker(['inspect', '--format', '{{json .Config.Labels}}', web])).stdout.toString());
    expect(labels).toMatchObject({ 'com.docker.compose.project': `secbuild-e2e-${ID}`, 'com.docker.compose.service': 'web' });
    const saved = (await docker(['save', web])).stdout;
    for (const v of VALUES) expect(containsBytes(saved, Buffer.from(v)), `image holds ${v.slice(0, 6)}…`).toBe(false);
    expect(leakedValues(r.stdout + r.stderr)).toEqual([]);
  });

  test('a failing build: docker\'s exit code, output masked, the earlier image kept, the later service not built, files removed', async () => {
    const p = `secbuild-e2e-fail-${ID}`;
    const dir = tree({
      'compose.yaml': ['services:', '  a: { build: a }', '  b: { build: { context: b, secrets: [tok] } }', '  c: { build: a }', ''].join('\n'),
      'a/Dockerfile': `FROM ${BASE}\nRUN echo a-${ID} > /a\n`,
      // b prints its secret (masked by secbuild: output is not a terminal) and fails.
      'b/Dockerfile': `FROM ${BASE}\nRUN --mount=type=secret,id=tok echo "b saw $(cat /run/secrets/tok)" && test ! -s /run/secrets/tok\n`,
    });
    images.push(`${p}-a`, `${p}-b`, `${p}-c`);
    try {
      const r = await runCli(['compose', '--engine', 'direct', '-p', p, 'build', '--progress=plain', '--secret', 'id=tok,from=env:E2E_TOKEN'], { env, cwd: dir.dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/b saw \*{3}/);
      expect(leakedValues(r.stdout + r.stderr)).toEqual([]);
      expect(r.stderr).toContain('service "b" failed (docker exit 1); built: a; not built: c.');
      expect((await docker(['image', 'inspect', `${p}-a`])).code).toBe(0);
      expect((await docker(['image', 'inspect', `${p}-c`])).code).not.toBe(0);
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      dir.cleanup();
    }
  });

  test.each([['SIGINT', 130], ['SIGKILL', null]] as const)('%s mid-build: the files and the build are gone', async (signal, code) => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const dir = tree({
      'compose.yaml': 'services:\n  slow: { build: { context: ., secrets: [tok] } }\n',
      'Dockerfile': `FROM ${BASE}\nRUN --mount=type=secret,id=tok sleep 3${marker}\n`,
    });
    try {
      const run = startCli(['compose', '--engine', 'direct', '-p', `secbuild-e2e-slow-${ID}`, 'build', '--no-cache', '--secret', 'id=tok,from=env:E2E_TOKEN'], { env, cwd: dir.dir });
      await waitFor('the RUN to start', () => pidsMatching(`sleep 3${marker}`).length > 0, 60_000);
      expect(listDir(box.tmp).length).toBe(1);
      run.child.kill(signal);
      const r = await run.done;
      if (code !== null) expect(r.code).toBe(code);
      await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
      await waitFor('the RUN to stop', () => pidsMatching(`sleep 3${marker}`).length === 0, 15_000);
    } finally {
      dir.cleanup();
    }
  });
});

describeE2E('compose build, compose engine (Compose v2 for real)', () => composeV2.skip && composeV2.why, () => {
  const box = sandbox();
  const env = baseEnv(box, SECRET_ENV);
  const p = `secbuild-e2e-cmp-${ID}`;
  const images = [`${p}-b`, `${p}-slow`];
  const proj = tree({
    'compose.yaml': ['services:', '  b: { build: { context: b, secrets: [tok] } }', '  slow: { build: { context: slow, secrets: [tok] } }', ''].join('\n'),
    // b prints its secret (masked by secbuild: output is not a terminal) and fails with 17.
    'b/Dockerfile': `FROM ${BASE}\nRUN --mount=type=secret,id=tok echo "b-${ID} saw $(cat /run/secrets/tok)" && exit 17\n`,
    'slow/Dockerfile': '', // written per case, with a sleep of its own
  });
  afterAll(async () => {
    await docker(['rmi', '-f', ...images]);
    proj.cleanup();
    box.cleanup();
  });
  const secret = ['--secret', 'id=tok,from=env:E2E_TOKEN'];

  test('what Compose prints is masked and counted in the --report; Compose\'s exit code (17) is passed through, files removed', async () => {
    const reportFile = join(box.dir, 'compose-engine-report.json');
    const r = await runCli(['compose', '-p', p, 'build', '--report', reportFile, '--progress=plain', '--no-cache', ...secret, 'b'], { env, cwd: proj.dir });
    expect(r.stderr).toMatch(/compose engine: compose \(/);
    expect(r.stdout + r.stderr).toMatch(new RegExp(`b-${ID} saw \\*{3}`));
    expect(leakedValues(r.stdout + r.stderr)).toEqual([]);
    expect(r.code).toBe(17);
    expect(listDir(box.tmp)).toEqual([]);
    const text = readFileSync(reportFile, 'utf8');
    expect(leakedValues(text)).toEqual([]);
    const rep = JSON.parse(text);
    expect(rep.engine.compose).toBe('compose');
    expect(rep.runs[0].argv.slice(1, 2)).toEqual(['compose']);
    expect(Object.values(rep.masking.occurrences as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  });

  test.each([['SIGINT', 130], ['SIGTERM', 143], ['SIGKILL', null]] as const)('%s while Compose builds: files removed, the build stopped', async (signal, code) => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    writeFileSync(join(proj.dir, 'slow', 'Dockerfile'), `FROM ${BASE}\nRUN --mount=type=secret,id=tok sleep 3${marker}\n`);
    const run = startCli(['compose', '-p', p, 'build', '--no-cache', ...secret, 'slow'], { env, cwd: proj.dir });
    await waitFor('the RUN to start', () => pidsMatching(`sleep 3${marker}`).length > 0, 60_000);
    expect(listDir(box.tmp).length).toBe(1);
    run.child.kill(signal);
    const r = await run.done;
    if (code !== null) expect(r.code).toBe(code);
    await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
    await waitFor('the RUN to stop', () => pidsMatching(`sleep 3${marker}`).length === 0, 15_000);
  });
});
