/**
 * `secbuild bake`'s plan cache (src/pipeline/bake-plan.ts): a repeated bake
 * with the same bake files, variables, options and targets does not run
 * `buildx bake --print` again; any change to one of them does, and a stale
 * plan never skips the preflight. The docker stand-in
 * (test/helpers/fake-docker.ts) only records argv and files: it prints
 * FAKE_BAKE_PRINT for `--print` whatever the files say, so a test changes
 * both together, as bake would.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli, sandbox, startCli, tree } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

const VALUE = 'bake-plan-s3cret-71c0';
const MOUNT = 'FROM x\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n';
const print = (targets: Record<string, unknown>) => JSON.stringify({ target: targets });
const ONE = print({ a: { context: 'app', dockerfile: 'Dockerfile', secret: ['id=tok,env=TOK'] } });
const HCL = 'variable "TAG" { default = "dev" }\ntarget "a" {\n  context = "app"\n  tags = ["x:${TAG}"]\n  secret = ["id=tok,env=TOK"]\n}\n';

describe('secbuild bake plan cache (docker stand-in: argv and files only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  afterAll(() => box.cleanup());

  /** A project of its own per test, so no test sees another's plan. */
  function project(files: Record<string, string> = {}) {
    const p = tree({ 'app/Dockerfile': MOUNT, 'docker-bake.hcl': HCL, ...files });
    afterAll(() => p.cleanup());
    return p;
  }
  const bake = async (dir: string, args: string[] = [], extra: NodeJS.ProcessEnv = {}, printed = ONE) => {
    const rec = fake.record({ FAKE_BUILDX_INSPECT: 'Driver: docker', FAKE_BAKE_PRINT: printed, MYTOK: VALUE, ...extra });
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:MYTOK', ...args], { env: rec.env, cwd: dir });
    return { r, rec, printed: rec.calls().some((c) => c.includes('--print')), argv: rec.runs() };
  };

  test('the same files, variables, options and targets: the second bake runs no --print and the same bake argv', async () => {
    const p = project();
    const first = await bake(p.dir, ['a']);
    expect(first.r.code, first.r.stderr).toBe(0);
    expect(first.printed).toBe(true);
    const second = await bake(p.dir, ['a']);
    expect(second.r.code, second.r.stderr).toBe(0);
    expect(second.printed).toBe(false);
    const norm = (argv: string[]) => argv.map((a) => a.replace(/secbuild-\d+-\w+/g, 'RUN'));
    expect(norm(second.argv)).toEqual(norm(first.argv));
    expect(second.r.stdout + second.r.stderr).not.toContain(VALUE);
  });

  test('a changed bake file is a miss: the new plan is read, and its ungranted mount stops the bake (exit 2)', async () => {
    const p = project();
    expect((await bake(p.dir)).r.code).toBe(0);
    writeFileSync(join(p.dir, 'docker-bake.hcl'), `${HCL}target "o" { context = "other" }\n`);
    writeFileSync(join(p.dir, 'app/Other'), 'FROM x\nRUN --mount=type=secret,id=nobody,required=true true\n');
    const changed = print({ a: { context: 'app', dockerfile: 'Dockerfile', secret: ['id=tok,env=TOK'] }, o: { context: 'app', dockerfile: 'Other' } });
    const after = await bake(p.dir, [], {}, changed);
    expect(after.printed).toBe(true);
    expect(after.r.code).toBe(2);
    expect(after.r.stderr).toContain('target "o"');
    expect(after.argv).toEqual([]);
  });

  test('a variable the bake file names is a miss when set, changed or unset; one it does not name is not', async () => {
    const p = project();
    expect((await bake(p.dir)).printed).toBe(true);
    expect((await bake(p.dir, [], { UNRELATED_VAR: 'x' })).printed).toBe(false);
    expect((await bake(p.dir, [], { TAG: 'v1' })).printed).toBe(true);
    expect((await bake(p.dir, [], { TAG: 'v1' })).printed).toBe(false);
    expect((await bake(p.dir, [], { TAG: 'v2' })).printed).toBe(true);
    expect((await bake(p.dir, [], { BUILDX_BAKE_ENTITLEMENTS_FS: '0' })).printed).toBe(true);
  });

  test("a secret's own variable is not part of the key (the child environment is scrubbed of it); the cache holds no value", async () => {
    const p = project();
    expect((await bake(p.dir)).printed).toBe(true);
    expect((await bake(p.dir, [], { MYTOK: 'another-s3cret-value' })).printed).toBe(false);
    const dir = join(box.cache, 'secbuild/bake');
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f), 'utf8')).not.toContain(VALUE);
  });

  test('another target list, --set or -f is a miss', async () => {
    const p = project({ 'more.hcl': 'target "b" { context = "app" }\n' });
    expect((await bake(p.dir, ['a'])).printed).toBe(true);
    expect((await bake(p.dir, ['a'])).printed).toBe(false);
    expect((await bake(p.dir, ['a', 'b'])).printed).toBe(true);
    expect((await bake(p.dir, ['--set', 'a.args.N=1', 'a'])).printed).toBe(true);
    expect((await bake(p.dir, ['--set', 'a.args.N=2', 'a'])).printed).toBe(true);
    expect((await bake(p.dir, ['-f', 'docker-bake.hcl', '-f', 'more.hcl', 'a'])).printed).toBe(true);
    expect((await bake(p.dir, ['--load', 'a'])).printed).toBe(true);
  });

  test('a cached plan never skips the preflight: a Dockerfile that now mounts an ungranted id stops the bake (exit 2)', async () => {
    const p = project();
    expect((await bake(p.dir)).r.code).toBe(0);
    writeFileSync(join(p.dir, 'app/Dockerfile'), `${MOUNT}RUN --mount=type=secret,id=late,required=true true\n`);
    const after = await bake(p.dir);
    expect(after.printed).toBe(false);
    expect(after.r.code).toBe(2);
    expect(after.r.stderr).toContain('RUN mounts secret "late"');
    expect(after.argv).toEqual([]);
  });

  test('a plan whose run the preflight stopped is not kept; compose files and a missing bake file are never cached', async () => {
    const p = project({ 'app/Dockerfile': 'FROM x\nRUN --mount=type=secret,id=nobody,required=true true\n' });
    expect((await bake(p.dir)).r.code).toBe(2);
    expect((await bake(p.dir)).printed).toBe(true);
    const c = tree({ 'app/Dockerfile': MOUNT, 'compose.yaml': 'services:\n  a:\n    build: app\n' });
    afterAll(() => c.cleanup());
    expect((await bake(c.dir)).printed).toBe(true);
    expect((await bake(c.dir)).printed).toBe(true);
    const none = tree({ 'app/Dockerfile': MOUNT });
    afterAll(() => none.cleanup());
    expect((await bake(none.dir)).printed).toBe(true);
    expect((await bake(none.dir)).printed).toBe(true);
  });

  test.each<[string, (path: string) => void]>([
    ['a FIFO nobody writes', (path) => execFileSync('mkfifo', [path])],
    ['a symlink to /dev/zero', (path) => symlinkSync('/dev/zero', path)],
  ])("a working directory's .env that is %s: never read, the plan not cached, the bake runs (SIGKILLed at 10 s if it blocks)", async (_, make) => {
    const p = project();
    make(join(p.dir, '.env'));
    for (let i = 0; i < 2; i++) {
      const rec = fake.record({ FAKE_BUILDX_INSPECT: 'Driver: docker', FAKE_BAKE_PRINT: ONE, MYTOK: VALUE });
      const run = startCli(['bake', '--secret', 'id=tok,from=env:MYTOK'], { env: rec.env, cwd: p.dir });
      const killer = setTimeout(() => run.child.kill('SIGKILL'), 10_000);
      const r = await run.done;
      clearTimeout(killer);
      expect(r.signal, 'secbuild blocked on .env').toBeNull();
      expect(r.code, r.stderr).toBe(0);
      expect(rec.calls().some((c) => c.includes('--print'))).toBe(true);
    }
  }, 30_000);

  test('a plan whose args carry the secret, let through by --allow-secret-build-arg, is not written: the cache holds no value', async () => {
    const p = project();
    const withArg = print({ a: { context: 'app', dockerfile: 'Dockerfile', secret: ['id=tok,env=TOK'], args: { LET: VALUE } } });
    for (let i = 0; i < 2; i++) {
      const run = await bake(p.dir, ['--allow-secret-build-arg', 'LET'], {}, withArg);
      expect(run.r.code, run.r.stderr).toBe(0);
      expect(run.printed).toBe(true);
    }
    const dir = join(box.cache, 'secbuild/bake');
    for (const f of existsSync(dir) ? readdirSync(dir) : []) expect(readFileSync(join(dir, f), 'utf8')).not.toContain(VALUE);
  });

  test("a bake file whose text holds the secret's value (a variable's default): the plan is not written, the cache holds no value", async () => {
    const p = project({ 'docker-bake.hcl': `${HCL}variable "OLD_TOKEN" { default = "${VALUE}" }\n` });
    for (let i = 0; i < 2; i++) expect((await bake(p.dir)).printed).toBe(true);
    const dir = join(box.cache, 'secbuild/bake');
    for (const f of existsSync(dir) ? readdirSync(dir) : []) expect(readFileSync(join(dir, f), 'utf8')).not.toContain(VALUE);
  });

  test("a target's dockerfile-inline holding a value (bake interpolates variables into it), let through by --allow-secret-build-arg: no file of secbuild's cache holds it", async () => {
    const p = project();
    const other = `other-env-${VALUE}`;
    const inline = print({ a: { context: 'app', 'dockerfile-inline': `FROM x\nRUN --mount=type=secret,id=tok true\nRUN echo ${other} > /dev/null\n`, secret: ['id=tok,env=TOK'] } });
    // Without the opt-in the guard refuses it (exit 4, test/cli/bake.test.ts).
    expect((await bake(p.dir, ['--allow-secret-build-arg', 'dockerfile-inline'], {}, inline)).r.code).toBe(0);
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    for (const f of files(box.cache)) expect(readFileSync(f, 'latin1'), f).not.toContain(other);
  });

  test('an HCL file that calls timestamp() is never cached', async () => {
    const p = project({ 'docker-bake.hcl': `${HCL}variable "NOW" { default = timestamp() }\n` });
    expect((await bake(p.dir)).printed).toBe(true);
    expect((await bake(p.dir)).printed).toBe(true);
  });
});
