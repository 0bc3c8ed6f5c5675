/**
 * `secbuild bake`, end to end, with the real buildx plugin (0.13.1) through
 * the default docker driver (images land in the daemon's store): an HCL file
 * with two targets sharing one secret (its hash checked in each image), a
 * target's own env= entry kept, masking of a RUN echo, a Dockerfile mounting
 * an id nobody grants (exit 2 before any build), SIGINT mid-bake, --dry-run.
 * The private secret root is checked empty after each run. argv and files
 * without a daemon: test/cli/bake.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { BASE, listDir, nonce, pidsMatching, ROOT, runCli, sandbox, startCli, tree, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker } from '../helpers/e2e.js';
import { buildx, D28 } from '../helpers/engines.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describeE2E('secbuild bake (real buildx)', () => buildx.skip && buildx.why, () => {
  const id = nonce();
  const VALUE = `bake-e2e-s3cret-${id}`;
  const OWN = `bake-own-${id}`;
  const box = sandbox();
  const env = baseEnv(box, { SECBUILD_DOCKER: D28, MYTOK: VALUE, OWN_TOK: OWN });
  const [imgA, imgB] = [`secbuild-bake-a-${id}`, `secbuild-bake-b-${id}`];
  const proj = tree({
    'docker-bake.hcl': `group "default" { targets = ["a", "b"] }
target "a" {
  context = "app"
  args    = { BASE = "${BASE}" }
  tags    = ["${imgA}"]
  secret  = ["id=tok,env=TOK", "id=own,env=OWN_TOK"]
}
target "b" {
  context    = "app"
  dockerfile = "Dockerfile.b"
  args       = { BASE = "${BASE}" }
  tags       = ["${imgB}"]
}
target "orphan" {
  context    = "app"
  dockerfile = "Dockerfile.orphan"
  args       = { BASE = "${BASE}" }
  tags       = ["secbuild-bake-orphan-${id}"]
}
`,
    'app/Dockerfile': `ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | cut -d' ' -f1 > /sha && echo "said $(cat /run/secrets/tok)"\nRUN --mount=type=secret,id=own,required=true sha256sum /run/secrets/own | cut -d' ' -f1 > /own\n`,
    'app/Dockerfile.b': 'ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | cut -d\' \' -f1 > /sha\n',
    'app/Dockerfile.orphan': 'ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=nobody,required=true true\n',
  });
  const SECRET = ['--secret', 'id=tok,from=env:MYTOK'];
  afterAll(async () => {
    await docker(['rmi', '-f', imgA, imgB, 'secbuild-example-bake-api', 'secbuild-example-bake-worker']);
    proj.cleanup();
    box.cleanup();
  });
  const cat = async (image: string, file: string) => (await docker(['run', '--rm', '--network', 'none', image, 'cat', file])).stdout.toString().trim();

  test("two targets share one secret: its hash is in each image, a's own env= entry still works, the RUN echo is masked, no file left", async () => {
    const report = join(box.dir, 'bake-report.json');
    const r = await runCli(['bake', ...SECRET, '--no-cache', '--progress=plain', '--report', report, 'a', 'b'], { env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(await cat(imgA, '/sha')).toBe(sha(VALUE));
    expect(await cat(imgB, '/sha')).toBe(sha(VALUE));
    expect(await cat(imgA, '/own')).toBe(sha(OWN));
    expect(r.stderr).toContain('said ***');
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(listDir(box.tmp)).toEqual([]);
    const text = readFileSync(report, 'utf8');
    expect(text).not.toContain(VALUE);
    const rep = JSON.parse(text);
    expect(rep).toMatchObject({ command: 'bake', exitCode: 0, masking: { enabled: true } });
    expect(rep.targets).toEqual([
      { target: 'a', dockerfile: join(proj.dir, 'app/Dockerfile'), secrets: ['tok'] },
      { target: 'b', dockerfile: join(proj.dir, 'app/Dockerfile.b'), secrets: ['tok'] },
    ]);
    const saved = await docker(['save', imgA, imgB]);
    expect(saved.stdout.includes(Buffer.from(VALUE))).toBe(false);
  });

  test('a target whose Dockerfile mounts an id nobody grants: exit 2 before any build, naming target, file and line', async () => {
    const r = await runCli(['bake', ...SECRET], { env, cwd: proj.dir });
    const r2 = await runCli(['bake', ...SECRET, 'a', 'orphan'], { env, cwd: proj.dir });
    expect(r.code, r.stderr).not.toBe(2); // the default group does not reach the orphan (its images are rebuilt from cache)
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`target "orphan": ${join(proj.dir, 'app/Dockerfile.orphan')}:3: RUN mounts secret "nobody"`);
    expect(r2.stderr).not.toMatch(/#\d+ \[/); // bake never started: no build step printed
    expect((await docker(['image', 'inspect', `secbuild-bake-orphan-${id}`])).code).not.toBe(0);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test("a --set carrying a credential that bake's --print refuses: the error names the --set, never the credential (bake's own words quote it)", async () => {
    const typed = `ghp_${id.replace(/\W/g, '')}Xq7Zk2Lm9Rt4Vw8Yp3Bn6Cd1`;
    const r = await runCli(['bake', ...SECRET, '--set', `a.platform=${typed}`, 'a'], { env, cwd: proj.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('buildx bake --set a.platform=<hidden> --print -- a failed: ERROR:');
    expect(r.stderr).not.toContain(typed);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--dry-run prints the plan per target and no value; nothing built, nothing written', async () => {
    const r = await runCli(['bake', ...SECRET, '--dry-run', 'a', 'b'], { env, cwd: proj.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/target a: .*secbuild secrets tok \(\S+\/00-tok\), bake's own id=own,env=OWN_TOK/);
    expect(r.stdout).toMatch(/target b: .*secbuild secrets tok/);
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test.each([['SIGINT', 130], ['SIGKILL', null]] as const)('%s mid-bake: the run directory and the RUN are gone', async (signal, code) => {
    const marker = `${Math.floor(Math.random() * 9000) + 1000}`;
    const slow = tree({
      'docker-bake.hcl': `target "slow" {\n  context = "."\n  args = { BASE = "${BASE}" }\n  secret = ["id=tok,env=TOK"]\n}\n`,
      Dockerfile: `ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok sleep 3${marker}\n`,
    });
    try {
      const run = startCli(['bake', ...SECRET, '--no-cache', 'slow'], { env, cwd: slow.dir });
      await waitFor('the RUN to start', () => pidsMatching(`sleep 3${marker}`).length > 0, 60_000);
      expect(listDir(box.tmp).length).toBe(1);
      run.child.kill(signal);
      const r = await run.done;
      if (code !== null) expect(r.code).toBe(code);
      await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 5_000);
      await waitFor('the RUN to stop', () => pidsMatching(`sleep 3${marker}`).length === 0, 15_000);
    } finally {
      slow.cleanup();
    }
  });

  test('examples/bake builds as its README says: both targets get the .netrc (worker by its mount alone), no token printed', async () => {
    const token = `ghp_bake${id}`;
    const r = await runCli(['bake', '--no-cache', '--progress=plain'], {
      env: baseEnv(box, { SECBUILD_DOCKER: D28, GITHUB_TOKEN: token, BASE_IMAGE: BASE }),
      cwd: join(ROOT, 'examples', 'bake'),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/api: \.netrc for github\.com, \d+ bytes/);
    expect(r.stderr).toMatch(/worker: \.netrc for github\.com, \d+ bytes/);
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--verify: each target\'s image is searched; a target whose RUN copies the secret into a layer fails with exit 4 naming it', async () => {
    const [clean, leaky] = [`secbuild-bake-clean-${id}`, `secbuild-bake-leaky-${id}`];
    const dir = tree({
      'docker-bake.hcl': `group "default" { targets = ["clean", "leaky"] }
target "clean" {
  context = "."
  args = { BASE = "${BASE}" }
  tags = ["${clean}"]
}
target "leaky" {
  context = "."
  dockerfile = "Dockerfile.leaky"
  args = { BASE = "${BASE}" }
  tags = ["${leaky}"]
}
`,
      Dockerfile: 'ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok wc -c /run/secrets/tok\n',
      'Dockerfile.leaky': 'ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok cp /run/secrets/tok /leak\n',
    });
    try {
      const report = join(box.dir, 'bake-verify-report.json');
      const r = await runCli(['bake', ...SECRET, '--verify', '--no-cache', '--report', report], { env, cwd: dir.dir });
      expect(r.code, r.stderr).toBe(4);
      // --report: one verify result per target, the clean one kept (it was searched first).
      const rep = JSON.parse(readFileSync(report, 'utf8'));
      expect(rep.targets.map((t: { target: string; verify?: { clean: boolean } }) => [t.target, t.verify?.clean])).toEqual([['clean', true], ['leaky', false]]);
      expect(rep.verify).toBeUndefined();
      expect(r.stderr).toMatch(/verify: searching target "clean" sha256:\w+/);
      expect(r.stderr).toMatch(/--verify: target "leaky": the image just built \(sha256:\w+\) holds secret values in 1 place/);
      expect(r.stdout + r.stderr).not.toContain(VALUE);
      expect(listDir(box.tmp)).toEqual([]);
      const ok = await runCli(['bake', ...SECRET, '--verify', 'clean'], { env, cwd: dir.dir });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toMatch(/verify: sha256:\w+: clean/);
    } finally {
      await docker(['rmi', '-f', clean, leaky]);
      dir.cleanup();
    }
  });

  test("a compose file as bake's input, and the user's --set of a target's secrets: secbuild serves its id, the --set entry for another id is kept", async () => {
    const img = `secbuild-bake-compose-${id}`;
    const dir = tree({
      'compose.yaml': `services:\n  app:\n    image: ${img}\n    build:\n      context: .\n      args: [BASE=${BASE}]\n      secrets: [tok]\nsecrets:\n  tok: { environment: TOK }\n`,
      Dockerfile: 'ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | cut -d\' \' -f1 > /sha\nRUN --mount=type=secret,id=extra,required=true sha256sum /run/secrets/extra | cut -d\' \' -f1 > /extra\n',
      'extra.txt': 'extra-file',
    });
    try {
      const r = await runCli(['bake', '-f', 'compose.yaml', ...SECRET, '--set', 'app.secrets=id=extra,src=extra.txt', '--set', 'app.secrets=id=tok,env=TOK', '--no-cache'], { env: { ...env, TOK: 'not-this' }, cwd: dir.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(await cat(img, '/sha')).toBe(sha(VALUE));
      expect(await cat(img, '/extra')).toBe(sha('extra-file'));
      expect(listDir(box.tmp)).toEqual([]);
    } finally {
      await docker(['rmi', '-f', img]);
      dir.cleanup();
    }
  });
});
