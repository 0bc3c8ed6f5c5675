/**
 * Leak paths against the real daemon (leak-paths issue, items 1, 2, 5, 9):
 * a token file ending in "\n" is masked in every form a RUN prints, refused
 * as a build-arg (`$(cat tok.txt)`), and found by --verify when copied; with
 * CI=true a pseudo-terminal is masked too; and no child — docker's version
 * probes, the build, the watchdog — gets a variable a secret is read from.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { CLI, context, expectNoSecret, listDir, nonce, pidsMatching, runCli, sandbox, sh, startCli, waitFor } from '../helpers/cli.js';
import { baseEnv, describeE2E, DOCKER } from '../helpers/e2e.js';

const TOKEN = `ghp_${nonce()}Zq9`;
const PW = `p@ss/w0rd+${nonce()}!`;
const b64 = (s: string) => Buffer.from(s).toString('base64');

describeE2E('leak paths', () => {
  const box = sandbox();
  const tokFile = join(box.dir, 'tok.txt');
  const pwFile = join(box.dir, 'pw.txt');
  writeFileSync(tokFile, `${TOKEN}\n`);
  writeFileSync(pwFile, `${PW}\n`);
  const secretArgs = ['--secret', `id=tok,from=file:${tokFile}`, '--secret', `id=pw,from=file:${pwFile}`];
  const printing = context(
    [
      'FROM $BASE',
      'ARG N',
      // What tools make of a token file: the raw value, base64("user:"+token), a URL-encoded password.
      'RUN --mount=type=secret,id=tok --mount=type=secret,id=pw t=$(cat /run/secrets/tok); p=$(cat /run/secrets/pw); ' +
        'echo "raw $t"; printf "user:%s" "$t" | base64; printf "url %s\\n" "$p" | sed "s/@/%40/g; s#/#%2F#g; s/+/%2B/g"; echo "next line"',
      '',
    ].join('\n'),
  );
  const env = baseEnv(box);
  afterAll(() => {
    printing.cleanup();
    box.cleanup();
  });

  test('a token file ending in \\n: raw, base64("user:"+token) and URL-encoded forms are masked; the line end is kept', async () => {
    const r = await runCli([...secretArgs, '--progress=plain', '--no-cache', '--build-arg', `N=${nonce()}`, printing.dir], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout + r.stderr;
    expectNoSecret(out, [TOKEN, PW, encodeURIComponent(PW), b64(`user:${TOKEN}`)]);
    expect(out).toMatch(/raw \*\*\*\n/);
    expect(out).toMatch(/url \*\*\*\n/);
    expect(out).toMatch(/\S{0,4}\*\*\*\S{0,3}\n/); // base64 of user:token: at most 2 characters each side stay visible
    expect(out).toMatch(/next line/);
    expect(listDir(box.tmp)).toEqual([]);
  });

  test('--build-arg GH_PAT="$(cat tok.txt)" is refused with exit 4; docker is not run', async () => {
    const r = await runCli([...secretArgs, '--build-arg', `GH_PAT=${TOKEN}`, printing.dir], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/--build-arg GH_PAT carries secret "tok"/);
    expectNoSecret(r.stderr, [TOKEN]);
  });

  test('--verify finds a newline-terminated token copied into a layer in base64 form', async () => {
    const leak = context('FROM $BASE\nRUN --mount=type=secret,id=tok printf "user:%s" "$(cat /run/secrets/tok)" | base64 > /auth\n');
    try {
      const tag = `secbuild-e2e-leak:${nonce()}`;
      const r = await runCli(['--secret', `id=tok,from=file:${tokFile}`, '--verify', '--no-cache', '-t', tag, leak.dir], { env });
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toMatch(/LEAK secret "tok".*\/auth \[base64\]/);
      await sh(DOCKER, ['rmi', '-f', tag]);
    } finally {
      leak.cleanup();
    }
  });

  test('CI=true on a pseudo-terminal: masked without --mask, docker gets --progress=plain', async () => {
    const report = join(box.dir, `ci-tty-${nonce()}.json`);
    const cmd = [process.execPath, CLI, ...secretArgs, '--no-cache', '--build-arg', `N=${nonce()}`, '--report', report, printing.dir]
      .map((a) => `'${a.replaceAll("'", `'\\''`)}'`)
      .join(' ');
    const r = await sh('script', ['-qec', cmd, '/dev/null'], { env: { ...env, CI: 'true' } });
    const out = r.stdout.toString();
    expect(r.code).toBe(0);
    expectNoSecret(out, [TOKEN, PW]);
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    expect(rep.masking.enabled).toBe(true);
    expect(rep.dockerArgv).toContain('--progress=plain');
  });

  test('no child gets a secret-source variable: docker, its version probes (recorded), the watchdog', async () => {
    // A recording wrapper in front of the real docker: it writes each call's environment (argv and files only), then execs docker.
    const rec = join(box.dir, `rec-${nonce()}`);
    const wrapper = join(box.dir, `docker-wrapper-${nonce()}`);
    writeFileSync(wrapper, `#!/bin/sh\nmkdir -p ${rec}\nenv > ${rec}/env.$$\nexec ${DOCKER} "$@"\n`, { mode: 0o755 });
    const sleep = `3${Math.floor(Math.random() * 9000) + 1000}`;
    const slow = context(`FROM $BASE\nRUN --mount=type=secret,id=tok sleep ${sleep}\n`);
    const cache = join(box.dir, `cache-${nonce()}`); // an empty cache: the engine probes run
    try {
      const run = startCli(['--secret', 'id=tok,from=env:SECRET_SRC', '--no-cache', slow.dir], { env: { ...env, SECBUILD_DOCKER: wrapper, XDG_CACHE_HOME: cache, SECRET_SRC: TOKEN } });
      await waitFor('the build to run', () => pidsMatching(`sleep ${sleep}`).length > 0, 60_000);
      const watchdogs = pidsMatching('secbuild-watchdog').filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(box.tmp));
      expect(watchdogs.length).toBe(1);
      expect(readFileSync(`/proc/${watchdogs[0]}/environ`, 'utf8').split('\0').filter(Boolean).map((l) => l.split('=')[0])).toEqual(['PATH']);
      run.child.kill('SIGTERM');
      const r = await run.done;
      expect(r.code).toBe(143);
      const calls = listDir(rec);
      expect(calls.length).toBeGreaterThanOrEqual(3); // buildx version, version, build
      for (const c of calls) {
        const text = readFileSync(join(rec, c), 'utf8');
        expect(text, c).not.toMatch(/^SECRET_SRC=/m);
        expect(text.includes(TOKEN), c).toBe(false);
      }
    } finally {
      slow.cleanup();
    }
  });
});
