/**
 * One child environment builder: every child of every command — engine
 * probes and builds, compose's docker children, verify's, podman's probe,
 * `cmd:` and `keychain:` providers, exec's command and a grandchild of it,
 * doctor's probes, `secret set`'s keychain tool, `run`'s and `compose up`'s docker — gets an environment without
 * any variable a secret is read from and without SECBUILD_CACHE_KEY.
 *
 * Stand-ins on PATH (docker, podman, secret-tool) and a `cmd:` provider only
 * record the environment they were started with (then docker's defers to the
 * argv-and-files stand-in of test/helpers/fake-docker.ts), so this file
 * checks environments only (env only); what the children do is the e2e tier's.
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { envFor, nonce, runCli, sandbox, tree } from '../helpers/cli.js';
import { fakeDocker } from '../helpers/fake-docker.js';

const KEY = 'k'.repeat(64);
const SOURCE = `source-${nonce()}`;

describe('every child of every command gets the one scrubbed environment (env only)', () => {
  const box = sandbox();
  const fake = fakeDocker(box);
  const bin = join(box.dir, 'stand-ins');
  mkdirSync(bin);
  const script = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
    return join(bin, name);
  };
  // Each records its environment under $DUMP as NAME-PID, then does its part.
  const record = (name: string) => `env > "$DUMP/${name}-$$"`;
  const docker = script('docker', `${record('docker')}\nexec ${fake.path} "$@"`);
  const podman = script('podman', `${record('podman')}\necho "podman stand-in: records its environment only" >&2; exit 1`);
  script('secret-tool', `${record('secret-tool')}\ncase $1 in lookup) printf keychain-value ;; store) cat >/dev/null ;; esac`);
  const provider = script('provider', `${record('cmd-provider')}\nprintf cmd-value-1234`);
  const ctx = tree({
    Dockerfile: 'FROM scratch\nRUN --mount=type=secret,id=t --mount=type=secret,id=c true\n',
    'Dockerfile.k': 'FROM scratch\nRUN --mount=type=secret,id=t --mount=type=secret,id=c --mount=type=secret,id=k true\n',
    'compose.yaml': 'services:\n  app:\n    build:\n      context: .\n      secrets: [t, c]\n    secrets: [t, c]\nsecrets:\n  t: { environment: TOKEN_SRC }\n',
  });
  afterAll(() => {
    ctx.cleanup();
    box.cleanup();
  });

  const secrets = ['--secret', 'id=t,from=env:TOKEN_SRC', '--secret', `id=c,from=cmd:${provider}`];
  const commands: Array<[string, string[], string[]]> = [
    ['build', ['--docker', docker, ...secrets, '--secret', 'id=k,from=keychain:svc/acct', '-f', 'Dockerfile.k', '-t', 'secbuild-env-app', '.'], ['docker', 'cmd-provider', 'secret-tool']],
    ['build --verify', ['--docker', docker, ...secrets, '--verify', '-t', 'secbuild-env-app', '.'], ['docker', 'cmd-provider']],
    ['compose build (Compose v2)', ['compose', '--docker', docker, '--secret', `id=c,from=cmd:${provider}`, 'build'], ['docker', 'cmd-provider']],
    ['compose build --engine direct', ['compose', '--docker', docker, '--engine', 'direct', '--secret', `id=c,from=cmd:${provider}`, 'build'], ['docker', 'cmd-provider']],
    ['exec', ['exec', ...secrets, '--', 'sh', '-c', `${record('exec-command')}; sh -c '${record('exec-grandchild')}'`], ['exec-command', 'exec-grandchild', 'cmd-provider']],
    ['run', ['run', '--docker', docker, ...secrets, '--rm', 'app'], ['docker', 'cmd-provider']],
    ['compose up (run-time secrets)', ['compose', '--docker', docker, '--secret', `id=c,from=cmd:${provider}`, 'up'], ['docker', 'cmd-provider']],
    ['verify', ['verify', '--docker', docker, ...secrets, 'secbuild-env-app'], ['docker', 'cmd-provider']],
    ['build --engine podman', ['--engine', 'podman', '--podman', podman, ...secrets, '-t', 'secbuild-env-app', '.'], ['podman']],
    // These read no secret from the environment: TOKEN_SRC is theirs to pass on, the key never is.
    ['doctor', ['doctor', '--docker', docker], ['docker', 'podman', 'secret-tool']],
    ['secret set', ['secret', 'set', 'svc/acct'], ['secret-tool']],
  ];
  const readsTokenSrc = (args: string[]) => args.some((a) => a.includes('env:TOKEN_SRC')) || args[0] === 'compose';

  test.each(commands)('%s: no child sees SECBUILD_CACHE_KEY or a secret source', async (_name, args, expected) => {
    const hidden = ['SECBUILD_CACHE_KEY=', ...(readsTokenSrc(args) ? ['TOKEN_SRC='] : [])];
    const dump = join(box.dir, `dump-${nonce()}`);
    mkdirSync(dump);
    const { env } = fake.record();
    const r = await runCli(args, {
      cwd: ctx.dir,
      input: 'typed-value-5678',
      env: envFor(box, docker, { ...env, PATH: `${bin}:${env.PATH}`, DUMP: dump, TOKEN_SRC: SOURCE, SECBUILD_CACHE_KEY: KEY, SECBUILD_KEYCHAIN_BACKEND: 'cli', GITHUB_ACTIONS: '' }),
    });
    const dumps = readdirSync(dump);
    // Each kind of child ran (so the check below checked something; podman's probe may fail before a provider starts)…
    expect([...new Set(dumps.map((d) => d.replace(/-\d+$/, '')))], r.stderr).toEqual(expect.arrayContaining(expected));
    // …and none of them saw the key or the source.
    for (const d of dumps) {
      const vars = readFileSync(join(dump, d), 'utf8').split('\n');
      expect(vars.filter((v) => hidden.some((h) => v.startsWith(h))), `${d} (${r.stderr})`).toEqual([]);
    }
  });
});
