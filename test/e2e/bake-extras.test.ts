/**
 * `secbuild bake` with the real buildx plugin (0.13.1, default docker
 * driver): a cache=content policy rebuilds exactly the step that mounts the
 * secret when its value changes and reuses it when it does not; --ssh-key
 * hands the key to a target's `RUN --mount=type=ssh` through secbuild's agent
 * (ssh-add -l inside the build lists its fingerprint); what this daemon and
 * bake refuse themselves — a named context (`target:`), two platforms on the
 * docker driver, a secret entry without an id — stops with their own message
 * and exit code, and leaves no file. argv without a daemon:
 * test/cli/bake-extras.test.ts.
 */
import { createHash } from 'node:crypto';
import { afterAll, expect, test } from 'vitest';
import { BASE, listDir, nonce, pidsMatching, runCli, sandbox, tree } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';
import { buildx, D28 } from '../helpers/engines.js';
import { keygen, SSH_TOOLS_IMAGE } from '../helpers/sshd.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
/** A RUN's own output line in plain progress (`#7 0.123 TEXT`), not the step's header that quotes the command. */
const ran = (out: string, marker: string) => new RegExp(`^#\\d+ \\d+\\.\\d+ ${marker}$`, 'm').test(out);

describeE2E('secbuild bake: cache policies, ssh keys and what bake refuses (real buildx)', () => buildx.skip && buildx.why, () => {
  const id = nonce();
  const box = sandbox();
  const KEY = createHash('sha256').update(`bake-extras-${id}`).digest('hex');
  const env = (extra: NodeJS.ProcessEnv = {}) => baseEnv(box, { SECBUILD_DOCKER: D28, SECBUILD_CACHE_KEY: KEY, ...extra });
  const images: string[] = [];
  const image = (name: string) => {
    const t = `secbuild-bake3-${name}-${id}`;
    images.push(t);
    return t;
  };
  const dirs: Array<{ cleanup: () => void }> = [];
  const project = (files: Record<string, string>) => {
    const p = tree(files);
    dirs.push(p);
    return p.dir;
  };
  afterAll(async () => {
    if (images.length) await docker(['rmi', '-f', ...images]);
    for (const d of dirs) d.cleanup();
    box.cleanup();
  });
  const cat = async (img: string, file: string) => (await docker(['run', '--rm', '--network', 'none', img, 'cat', file])).stdout.toString().trim();

  test('cache=content: the same value reuses the mounting step, a new value rebuilds it; the hash in the image follows the value', async () => {
    const img = image('cache');
    const marker = `STEP-RAN-${id}`;
    const dir = project({
      'docker-bake.hcl': `target "k" {\n  context = "app"\n  args = { BASE = "${BASE}" }\n  tags = ["${img}"]\n}\n`,
      'app/Dockerfile': `ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok,required=true echo ${marker} && sha256sum /run/secrets/tok | cut -d' ' -f1 > /sha\n`,
    });
    const bake = (value: string) => runCli(['bake', '--secret', 'id=tok,from=env:E2E_TOK,cache=content', '--progress=plain', 'k'], { env: env({ E2E_TOK: value }), cwd: dir });
    const first = await bake(`one-${id}`);
    expect(first.code, first.stderr).toBe(0);
    expect(ran(first.stderr, marker)).toBe(true);
    const same = await bake(`one-${id}`);
    expect(same.code, same.stderr).toBe(0);
    expect(ran(same.stderr, marker)).toBe(false);
    const rotated = await bake(`two-${id}`);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(ran(rotated.stderr, marker)).toBe(true);
    expect(await cat(img, '/sha')).toBe(sha(`two-${id}`));
    for (const r of [first, same, rotated]) expect(r.stdout + r.stderr).not.toMatch(new RegExp(`(one|two)-${id}`));
    expect(listDir(box.tmp)).toEqual([]);
  }, 120_000);

  test("--ssh-key: the target's RUN --mount=type=ssh sees secbuild's agent holding the key; no agent or file is left", async () => {
    const key = await keygen(box.dir, `bake-key-${id}`);
    const dir = project({
      'docker-bake.hcl': `target "s" {\n  context = "."\n  tags = ["${image('ssh')}"]\n}\n`,
      Dockerfile: `FROM ${SSH_TOOLS_IMAGE}\nRUN --mount=type=ssh,id=gh ssh-add -l\n`,
    });
    const r = await runCli(['bake', '--ssh-key', 'gh=env:E2E_BAKE_KEY', '--progress=plain', '--no-cache', 's'], { env: env({ E2E_BAKE_KEY: key.key }), cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(key.fingerprint);
    for (const line of key.key.split('\n').filter((l) => l && !l.startsWith('-----'))) expect(r.stdout + r.stderr).not.toContain(line);
    expect(pidsMatching(`ssh-agent -D -a ${box.tmp}`)).toEqual([]);
    expect(listDir(box.tmp)).toEqual([]);
  }, 120_000);

  test('a target reached through contexts (target:base) is served too; where the daemon cannot build named contexts, its own error and exit code pass through', async () => {
    const app = image('ctx');
    const dir = project({
      'docker-bake.hcl': `target "base" {\n  context = "."\n  dockerfile = "Dockerfile.base"\n  args = { BASE = "${BASE}" }\n}\ntarget "app" {\n  context = "."\n  dockerfile = "Dockerfile.app"\n  contexts = { base = "target:base" }\n  tags = ["${app}"]\n}\n`,
      'Dockerfile.base': "ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | cut -d' ' -f1 > /base-sha\n",
      'Dockerfile.app': "FROM base\nRUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | cut -d' ' -f1 > /app-sha\n",
    });
    const value = `ctx-${id}`;
    const dry = await runCli(['bake', '--secret', 'id=tok,from=env:E2E_TOK', '--dry-run', 'app'], { env: env({ E2E_TOK: value }), cwd: dir });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/ --set base\.secrets=id=tok,src=\S+\/00-tok /);
    expect(dry.stdout).toMatch(/ --set app\.secrets=id=tok,src=\S+\/00-tok /);
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:E2E_TOK', '--progress=plain', '--no-cache', 'app'], { env: env({ E2E_TOK: value }), cwd: dir });
    if (r.code === 0) {
      expect(await cat(app, '/base-sha')).toBe(sha(value));
      expect(await cat(app, '/app-sha')).toBe(sha(value));
    } else {
      // docker 20.10's built-in Dockerfile frontend (this machine's daemon) has no named contexts.
      expect(r.stderr).toContain('unsupported frontend capability moby.buildkit.frontend.contexts');
      expect(r.code).toBe(1);
    }
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(listDir(box.tmp)).toEqual([]);
  }, 120_000);

  test("two platforms on the docker driver: buildx's own refusal and exit code pass through; no file left", async () => {
    const dir = project({
      'docker-bake.hcl': `target "m" {\n  context = "."\n  args = { BASE = "${BASE}" }\n  platforms = ["linux/amd64", "linux/arm64"]\n  tags = ["${image('multi')}"]\n}\n`,
      Dockerfile: 'ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok,required=true true\n',
    });
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:E2E_TOK', 'm'], { env: env({ E2E_TOK: `multi-${id}` }), cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERROR: Multi-platform build is not supported for the docker driver.');
    expect(listDir(box.tmp)).toEqual([]);
  }, 60_000);

  test('an entry id=X (src=X) for an id secbuild provides, with no such file: bake --print refuses, exit 2, and the fix names env=', async () => {
    const dir = project({
      'docker-bake.hcl': 'target "f" {\n  context = "."\n  secret = ["id=tok"]\n}\n',
      Dockerfile: `FROM ${BASE}\nRUN --mount=type=secret,id=tok,required=true true\n`,
    });
    const r = await runCli(['bake', '--secret', 'id=tok,from=env:E2E_TOK', 'f'], { env: env({ E2E_TOK: `srcx-${id}` }), cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ERROR: failed to stat tok: stat tok: no such file or directory; bake reads every secret entry\'s src= file (id=X alone means src=X), even for an id secbuild provides ("tok"): write such an entry as id=ID,env=NAME (secbuild replaces it), or fix the path.');
    expect(listDir(box.tmp)).toEqual([]);
  }, 60_000);

  test("a bake secret entry without an id (type=env,env=VAR): bake's own error, exit 2 before any build", async () => {
    const dir = project({
      'docker-bake.hcl': 'target "e" {\n  context = "."\n  secret = ["type=env,env=E2E_TOK"]\n}\n',
      Dockerfile: `FROM ${BASE}\nRUN --mount=type=secret,id=E2E_TOK,required=true true\n`,
    });
    const r = await runCli(['bake', '--secret', 'id=E2E_TOK,from=env:E2E_TOK', 'e'], { env: env({ E2E_TOK: `noid-${id}` }), cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('ERROR: secret missing ID; fix the bake file, -f or --set.');
    expect(r.stderr).not.toMatch(/#\d+ \[/);
    expect(listDir(box.tmp)).toEqual([]);
  }, 60_000);
});
