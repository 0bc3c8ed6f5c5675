/**
 * Leak paths that need no daemon (leak-paths issue, items 2, 3, 8, 11): a
 * value never reaches secbuild's own errors, `secbuild secrets`, the report,
 * --dry-run output or docker's argv, and a secret reaches no build-arg or
 * label. Docker is the stand-in (argv and files only) or is not run at all.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { context, expectNoSecret, nonce, runCli, sandbox, tree } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

const TOKEN = `tok-${nonce()}-value`;
const OTHER = `other-${nonce()}-value`;
const values = [TOKEN, OTHER, Buffer.from(TOKEN).toString('base64')];

describe('secbuild never prints a value it resolved (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const ctx = context('FROM $BASE\nRUN --mount=type=secret,id=tok --mount=type=secret,id=other true\n');
  const ctxOther = context('FROM $BASE\nRUN --mount=type=secret,id=other true\n');
  afterAll(() => {
    ctx.cleanup();
    ctxOther.cleanup();
    box.cleanup();
  });
  // A cmd: provider that prints its value, and another secret's, to stderr before failing (set -x, a chatty tool).
  const failing = `id=tok,from=cmd:sh -c 'echo $OTHER_SRC >&2; printf ${TOKEN}; echo ${TOKEN} >&2; exit 3'`;
  const flags = ['--secret', failing, '--secret', 'id=other,from=env:OTHER_SRC'];

  test('a failing cmd: provider: its stderr in the error, `secrets` and the report is masked', async () => {
    const { env } = fake.record({ OTHER_SRC: OTHER });
    const reportFile = join(box.dir, `report-${nonce()}.json`);
    const r = await runCli([...flags, '--report', reportFile, ctx.dir], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/secret "tok" \(cmd:sh/);
    expect(r.stderr).toContain('***');
    expectNoSecret(r.stdout + r.stderr, values);
    const report = readFileSync(reportFile, 'utf8');
    expectNoSecret(report, values);
    expect(JSON.parse(report).error).toContain('***');
    expect(statSync(reportFile).mode & 0o777).toBe(0o600);

    const s = await runCli(['secrets', ...flags], { env });
    expect(s.code).toBe(3);
    expect(s.stdout).toContain('FAILED');
    expectNoSecret(s.stdout + s.stderr, values);
  });

  test('--allow-secret-build-arg: --dry-run and the report show NAME=***, never the value', async () => {
    const { env } = fake.record({ OTHER_SRC: OTHER });
    const reportFile = join(box.dir, `report-${nonce()}.json`);
    const args = ['--secret', 'id=other,from=env:OTHER_SRC', '--allow-secret-build-arg', 'PAT', '--build-arg', `PAT=${OTHER}`, '--report', reportFile];
    const dry = await runCli([...args, '--dry-run', ctxOther.dir], { env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('--build-arg PAT=***');
    expectNoSecret(dry.stdout + dry.stderr, values);
    expectNoSecret(readFileSync(reportFile, 'utf8'), values);
    const real = await runCli(args.concat(ctxOther.dir), { env });
    expect(real.code, real.stderr).toBe(0);
    const report = readFileSync(reportFile, 'utf8');
    expectNoSecret(report, values);
    expect(JSON.parse(report).dockerArgv).toContain('PAT=***');
  });

  test.each([
    ['--annotation KEY=V', ['--annotation', `org.example.key=${OTHER}`], /--annotation org\.example\.key carries secret "other".*annotations are recorded in the image manifest/],
    ['--annotation=TYPE:KEY=V (a form: base64)', [`--annotation=manifest:org.example.key=${Buffer.from(OTHER).toString('base64')}`], /--annotation manifest:org\.example\.key carries secret "other"/],
  ])('%s carrying a secret is refused with exit 4, like a label', async (_n, flags, message) => {
    const { env, runs } = fake.record({ OTHER_SRC: OTHER });
    const r = await runCli(['--secret', 'id=other,from=env:OTHER_SRC', ...flags, ctxOther.dir], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(message);
    expectNoSecret(r.stderr, values);
    expect(runs()).toEqual([]);
  });

  test('--label carrying a secret is refused with exit 4, like a build-arg', async () => {
    const { env, runs } = fake.record({ OTHER_SRC: OTHER });
    const r = await runCli(['--secret', 'id=other,from=env:OTHER_SRC', '--label', `org.example.key=${OTHER}`, ctxOther.dir], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/--label org\.example\.key carries secret "other"/);
    expectNoSecret(r.stderr, values);
    expect(runs()).toEqual([]);
  });
});

describe('declared secrets that feed a template are mounted when a RUN mounts them (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = tree({
    'Dockerfile': 'FROM $BASE\nRUN --mount=type=secret,id=pip_conf --mount=type=secret,id=pip_pass true\n',
    'pip.conf.tmpl': '[global]\nindex-url = https://ci:${pip_pass|url}@pypi.example/simple\n',
    'secbuild.yml': 'secrets:\n  pip_pass: { from: env:PIP_PASS }\n  pip_conf: { template: ./pip.conf.tmpl }\n',
  });
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });

  test('a template input the Dockerfile also mounts under its own id is handed to docker, not "not provided"', async () => {
    const { env } = fake.record({ PIP_PASS: OTHER });
    const r = await runCli(['--dry-run', '.'], { env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/--secret id=pip_pass,src=/);
    expect(r.stdout).toMatch(/--secret id=pip_conf,src=/);
    expectNoSecret(r.stdout + r.stderr, [OTHER]);
  });
});

describe('compose: a bare --build-arg VAR whose variable is a secret source is a leak (argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const proj = tree({
    'compose.yaml': 'services:\n  api:\n    build:\n      context: ./api\n      secrets: [tok]\n',
    'api/Dockerfile': 'FROM $BASE\nARG TOK_SRC\nRUN --mount=type=secret,id=tok true\n',
  });
  afterAll(() => {
    proj.cleanup();
    box.cleanup();
  });
  const flags = ['compose', 'build', '--secret', 'id=tok,from=env:TOK_SRC', '--build-arg', 'TOK_SRC', 'api'];

  test('refused with exit 4 like a build, naming the service; --allow-secret-build-arg lets it through', async () => {
    const refused = fake.record({ TOK_SRC: TOKEN, FAKE_COMPOSE_VERSION: 'none' });
    const r = await runCli(flags, { env: refused.env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/--build-arg TOK_SRC carries secret "tok"/);
    expectNoSecret(r.stderr, [TOKEN]);
    expect(refused.runs()).toEqual([]);
    const allowed = fake.record({ TOK_SRC: TOKEN, FAKE_COMPOSE_VERSION: 'none' });
    const ok = await runCli([...flags, '--allow-secret-build-arg', 'TOK_SRC'], { env: allowed.env, cwd: proj.dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/warning: service "api": --build-arg TOK_SRC carries secret "tok" and is let through/);
  });
});
