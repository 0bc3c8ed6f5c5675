/**
 * The features built beside the Podman engine, with podman: an --ssh-key
 * agent reaches `podman build --ssh` (a RUN that mounts type=ssh finds the
 * agent's socket), and a `cache=content` secret reruns exactly
 * its step when the value changes, from podman's own layer cache.
 * Against Debian's real podman (test/helpers/podman.ts); --network none.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { context, nonce, pidsMatching, runCli, sandbox } from '../helpers/cli.js';
import { describeE2E } from '../helpers/e2e.js';
import { podman, podmanEnv, podmanProblem } from '../helpers/podman.js';

describeE2E('podman engine with ssh keys and cache policies', podmanProblem, () => {
  // A short root: buildah binds its ssh socket under the run directory (src/engines/podman/engine.ts checkBuildahSshPath).
  const box = sandbox('sb-podx-');
  const id = nonce();
  const tags: string[] = [];
  const tag = (name: string) => {
    const t = `secbuild-e2e-podman-x-${name}:${id}`;
    tags.push(t);
    return t;
  };
  afterAll(async () => {
    if (tags.length) await podman(['rmi', '-f', ...tags]);
    box.cleanup();
  });

  test('--ssh-key: the RUN that mounts type=ssh gets the agent socket; no agent is left', async () => {
    const keyPath = join(box.dir, `key-${id}`);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'podman-e2e', '-f', keyPath]);
    const pub = readFileSync(`${keyPath}.pub`, 'utf8').trim().split(' ')[1]!;
    // busybox has no ssh-add: the RUN checks that the agent's socket is mounted (the key's loading is proven for docker in ssh.test.ts).
    const ctx = context('FROM $BASE\nRUN --mount=type=ssh S="${SSH_AUTH_SOCK:-/run/buildkit/ssh_agent.0}"; test -S "$S" && echo socket-ok\n');
    try {
      const r = await runCli(['--network', 'none', '--progress', 'plain', '--no-cache', '-t', tag('ssh'), '--ssh-key', `file:${keyPath}`, ctx.dir], { env: podmanEnv(box) });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout + r.stderr).toContain('socket-ok');
      expect(`${r.stdout}${r.stderr}`.includes(pub)).toBe(false);
      expect(pidsMatching('ssh-agent -D -a')).toEqual([]);
    } finally {
      ctx.cleanup();
    }
  });

  test('cache=content: the same value reuses the step, a new value reruns it', async () => {
    const ctx = context('FROM $BASE\nRUN echo before > /before\nRUN --mount=type=secret,id=tok sha256sum /run/secrets/tok > /h\n');
    const key = randomBytes(32).toString('base64');
    const image = tag('cache');
    const build = (value: string) =>
      runCli(['--network', 'none', '-t', image, '--secret', 'id=tok,from=env:E2E_CACHE_TOK,cache=content', ctx.dir], {
        env: podmanEnv(box, { E2E_CACHE_TOK: value, SECBUILD_CACHE_KEY: key, XDG_CONFIG_HOME: join(box.dir, 'config') }),
      });
    // podman prints `STEP n/m: INSTRUCTION`, then `--> Using cache ID` when that step came from its cache.
    const cached = (out: string, instruction: RegExp) => {
      const step = out.split(/^STEP /m).find((s) => instruction.test(s.split('\n')[0]!));
      expect(step, out).toBeDefined();
      return /--> Using cache/.test(step!);
    };
    const secretStep = /RUN --mount=type=secret,id=tok sha256sum/;
    try {
      const a = await build(`one-${id}`);
    expect(a.code, a.stderr).toBe(0);
    const again = await build(`one-${id}`);
    expect(again.code, again.stderr).toBe(0);
    expect(cached(again.stdout + again.stderr, secretStep)).toBe(true);
    const changed = await build(`two-${id}`);
    expect(changed.code, changed.stderr).toBe(0);
    const out = changed.stdout + changed.stderr;
    expect(cached(out, /RUN echo before/)).toBe(true);
    expect(cached(out, secretStep)).toBe(false);
    expect(out.includes(`two-${id}`)).toBe(false);
    const back = await build(`one-${id}`);
    expect(cached(back.stdout + back.stderr, secretStep)).toBe(true);
    } finally {
      ctx.cleanup();
    }
  });
});
