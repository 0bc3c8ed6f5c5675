/**
 * `secbuild check` through the built CLI: text and JSON output, exit 4 on an
 * error-level finding and 0 when only warnings remain. It reads files only:
 * secrets are declared but never resolved, so an unset variable is fine and
 * no value can reach the output. It needs no docker (noDockerEnv points
 * SECBUILD_DOCKER and DOCKER_HOST at nothing, so reaching for one would fail).
 */
import { afterAll, describe, expect, test } from 'vitest';
import { context, noDockerEnv, nonce, runCli, sandbox } from '../helpers/cli.js';

const VALUE = `check-${nonce()}-value`;

describe('check', () => {
  const box = sandbox();
  const env = noDockerEnv(box, { E2E_TOKEN: VALUE });
  const leaky = context(
    [
      'FROM $BASE',
      'ARG GITHUB_TOKEN',
      'COPY . /app',
      'RUN --mount=type=secret,id=tok cp /run/secrets/tok /app/tok',
      '',
    ].join('\n'),
    { '.npmrc': `//registry.example/:_authToken=${VALUE}\n`, '.env': `TOKEN=${VALUE}\n`, '.dockerignore': '.env\n' },
  );
  const clean = context(
    [
      'FROM $BASE',
      '# secbuild-ignore secret-in-arg-or-env',
      'ARG NPM_TOKEN_FILE_VERSION',
      'COPY app.txt /app/',
      'RUN --mount=type=secret,id=tok wc -c < /run/secrets/tok',
      '',
    ].join('\n'),
    { 'app.txt': 'hello\n', '.netrc': `machine x password ${VALUE}\n` },
  );
  afterAll(() => {
    leaky.cleanup();
    clean.cleanup();
    box.cleanup();
  });

  test('text: each finding with file:line, level, rule and fix; exit 4 on an error', async () => {
    const r = await runCli(['check', '--secret', 'id=tok,from=env:E2E_TOKEN', '.'], { env, cwd: leaky.dir });
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('Dockerfile:2: warning secret-in-arg-or-env: ARG GITHUB_TOKEN looks like a credential');
    expect(r.stdout).toMatch(/^Dockerfile:3: error credential-file-copied: COPY \. brings the credential file "\.npmrc" from the build context into the image.*\n {2}fix: Exclude it in \.dockerignore/m);
    expect(r.stdout).toMatch(/^Dockerfile:4: warning secret-written-to-layer: RUN writes secret "tok" \(\/run\/secrets\/tok\) to \/app\/tok/m);
    expect(r.stdout).not.toMatch(/\.env/); // excluded by .dockerignore
    expect(r.stdout).toMatch(/^1 error, 2 warnings$/m);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });

  test('json: the same findings for machines, exit 4', async () => {
    const r = await runCli(['check', '--format', 'json', '--secret', 'id=tok,from=env:E2E_TOKEN', '-t', 'ignored:tag', '.'], { env, cwd: leaky.dir });
    expect(r.code).toBe(4);
    const report = JSON.parse(r.stdout) as { errors: number; warnings: number; findings: { rule: string; level: string; file: string; line: number | null }[] };
    expect(report.errors).toBe(1);
    expect(report.warnings).toBe(2);
    expect(report.findings.map((f) => `${f.level} ${f.rule} ${f.file}:${f.line}`)).toEqual([
      'warning secret-in-arg-or-env Dockerfile:2',
      'error credential-file-copied Dockerfile:3',
      'warning secret-written-to-layer Dockerfile:4',
    ]);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });

  test('warnings only: exit 0; secrets are declared, not resolved', async () => {
    const r = await runCli(['check', '--format=json', '--secret', 'id=tok,from=env:E2E_UNSET_VARIABLE', clean.dir], { env });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { errors: number; findings: { rule: string; file: string; line: number | null }[] };
    expect(report.errors).toBe(0);
    expect(report.findings).toEqual([expect.objectContaining({ rule: 'credential-file-in-context', level: 'warning', file: `${clean.dir}/.netrc`, line: null })]);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });

  test('a mounted id that nothing provides is an error (as in the build preflight), exit 4', async () => {
    const r = await runCli(['check', '.'], { env, cwd: clean.dir });
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^Dockerfile:5: error secret-id-missing: RUN mounts secret "tok" but no secret with that id is provided/m);
  });

  test('usage errors exit 2', async () => {
    const r = await runCli(['check', '--format', 'yaml', '.'], { env, cwd: clean.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--format must be text or json, got "yaml"/);
  });
});

describe('check: ssh mounts (issue 15)', () => {
  const box = sandbox();
  const env = noDockerEnv(box);
  const ctx = context('FROM $BASE\nRUN --mount=type=ssh true\nRUN --mount=type=ssh,id=gl,required=true true\n');
  afterAll(() => {
    ctx.cleanup();
    box.cleanup();
  });

  test('an ssh id nothing forwards is ssh-id-missing (exit 4); --ssh-key and docker --ssh forward it (keys are not resolved); the same id from both is exit 2', async () => {
    const none = await runCli(['check', '--format', 'json', ctx.dir], { env });
    expect(none.code).toBe(4);
    const report = JSON.parse(none.stdout) as { findings: Array<{ rule: string; line: number | null }> };
    expect(report.findings.filter((f) => f.rule === 'ssh-id-missing').map((f) => f.line)).toEqual([2, 3]);
    const given = await runCli(['check', '--ssh-key', 'env:UNSET_DEPLOY_KEY', '--ssh', 'gl=/nowhere.sock', ctx.dir], { env });
    expect(given.code, given.stdout + given.stderr).toBe(0);
    const both = await runCli(['check', '--ssh-key', 'gl=env:K', '--ssh', 'gl', ctx.dir], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('ssh id "gl" is given twice');
  });
});
