/**
 * `secbuild bake` with a rendered `.netrc` against the real git server of
 * test/helpers/servers.ts (nginx basic auth, git smart-HTTP over HTTPS with
 * the run's CA, the CA-trusting Debian base): target "git" clones the private
 * repository in a RUN through `--netrc machine=localhost,…`, target "plain"
 * shares the plain secret `tok` with it. Real buildx (0.13.1), docker driver.
 *
 * buildx 0.13.1's bake does not apply a target's `network = "host"` (the RUN
 * gets its own network namespace; `--set T.network` is "unknown key"), and
 * nginx listens on 127.0.0.1 only: so the test relays the same port from the
 * docker bridge's gateway to nginx, and git's curl resolves `localhost:PORT`
 * to the gateway (http.curloptResolve); the URL, the certificate's name and
 * the .netrc machine stay `localhost`.
 */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { afterAll, expect, inject, test } from 'vitest';
import { listDir, nonce, runCli, sandbox, sh, tree } from '../helpers/cli.js';
import { baseEnv, describeE2E, docker, logSince } from '../helpers/e2e.js';
import { buildx, D28 } from '../helpers/engines.js';

const servers = inject('servers');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describeE2E('secbuild bake: a rendered .netrc clones from the real git server (real buildx)', () => servers.skip ?? (buildx.skip && buildx.why), () => {
  const id = nonce();
  const TOK = `s3cret-tok-${id}-v`;
  const box = sandbox();
  const [imgGit, imgPlain] = [`secbuild-bake2-git-${id}`, `secbuild-bake2-plain-${id}`];
  afterAll(async () => {
    await docker(['rmi', '-f', imgGit, imgPlain]);
    box.cleanup();
  });

  test('target "git" clones through the .netrc secret (200 as the user), target "plain" shares tok; no value in output or images, no file left', async () => {
    const s = servers.info!;
    const url = `https://localhost:${s.https.port}${s.git.path}`;
    // The bridge's gateway: the host's address on docker0 (the local daemon's default bridge).
    // (os.networkInterfaces() omits it while it is down, between containers: ask ip.)
    const gateway = /inet (\d+\.\d+\.\d+\.\d+)\//.exec((await sh('ip', ['-4', '-o', 'addr', 'show', 'docker0'])).stdout.toString())?.[1] ?? '';
    expect(gateway, 'no IPv4 address on docker0').toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const relay: Server = createServer((c) => {
      const up = connect(s.https.port, '127.0.0.1');
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((resolve, reject) => relay.once('error', reject).listen(s.https.port, gateway, resolve));
    const proj = tree({
      'docker-bake.hcl': `group "default" { targets = ["git", "plain"] }
target "git" {
  context    = "app"
  dockerfile = "Dockerfile.git"
  args       = { BASE = "${s.caImage}", REPO_URL = "${url}" }
  tags       = ["${imgGit}"]
}
target "plain" {
  context = "app"
  args    = { BASE = "${s.caImage}" }
  tags    = ["${imgPlain}"]
}
`,
      'app/Dockerfile.git': `ARG BASE\nFROM $BASE\nARG REPO_URL\nWORKDIR /src\nRUN --mount=type=secret,id=netrc,target=/root/.netrc --mount=type=secret,id=tok,required=true \\\n    sha256sum /run/secrets/tok | cut -d' ' -f1 > /sha && GIT_TERMINAL_PROMPT=0 git -c http.curloptResolve=localhost:${s.https.port}:${gateway} clone -q --depth 1 "$REPO_URL" . && rm -rf .git\n`,
      'app/Dockerfile': `ARG BASE\nFROM $BASE\nRUN --mount=type=secret,id=tok,required=true sha256sum /run/secrets/tok | cut -d' ' -f1 > /sha\n`,
    });
    try {
      const env = baseEnv(box, { SECBUILD_DOCKER: D28, GH: s.https.password, TOK });
      const at = statSync(s.https.accessLog).size;
      const r = await runCli(
        ['bake', '--netrc', `machine=localhost,login=${s.https.user},password=env:GH`, '--secret', 'id=tok,from=env:TOK', '--no-cache', '--progress=plain'],
        { env, cwd: proj.dir },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(logSince(s.https.accessLog, at)).toMatch(new RegExp(`^${s.https.user} "GET /acme/private-repo\\.git/info/refs\\?service=git-upload-pack [^"]*" 200$`, 'm'));
      const cat = async (image: string, file: string) => (await docker(['run', '--rm', '--network', 'none', image, 'cat', file])).stdout.toString();
      expect(await cat(imgGit, '/src/README')).toBe(s.git.readme);
      expect((await cat(imgGit, '/sha')).trim()).toBe(sha(TOK));
      expect((await cat(imgPlain, '/sha')).trim()).toBe(sha(TOK));
      expect(r.stdout + r.stderr).not.toContain(s.https.password);
      expect(r.stdout + r.stderr).not.toContain(TOK);
      expect(listDir(box.tmp)).toEqual([]);
      for (const image of [imgGit, imgPlain]) {
        const v = await runCli(['verify', '--secret', 'id=gh,from=env:GH', '--secret', 'id=tok,from=env:TOK', image], { env });
        expect(v.code, `${image}: ${v.stdout}${v.stderr}`).toBe(0);
      }
      const saved = await docker(['save', imgGit, imgPlain]);
      expect(saved.stdout.includes(Buffer.from(s.https.password))).toBe(false);
      expect(saved.stdout.includes(Buffer.from(TOK))).toBe(false);
    } finally {
      relay.close();
      proj.cleanup();
    }
  });
});
