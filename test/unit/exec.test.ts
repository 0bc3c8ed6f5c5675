/**
 * `secbuild exec`'s pure parts: the command line (src/args/exec.ts) and what
 * the command is handed (src/pipeline/exec-env.ts). The real command, tools
 * and servers: test/cli/exec.test.ts and test/e2e/exec.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { parseExecArgs } from '../../src/args/exec.js';
import { scrubEnv } from '../../src/run/env.js';
import { Secret } from '../../src/secrets/secret.js';
import type { SecretSpec } from '../../src/secrets/spec.js';
import { authSock, deliveredVars, dryRunLines, envValues, gitCredentialHelper, plannedVars } from '../../src/pipeline/exec-env.js';
import { showTyped } from '../../src/util/shown.js';

describe('parseExecArgs', () => {
  test.each<[string, string[], Partial<ReturnType<typeof parseExecArgs>>]>([
    ['-- then the command', ['--secret', 'id=a,from=env:A', '--', 'npm', 'ci'], { secrets: ['id=a,from=env:A'], command: ['npm', 'ci'] }],
    ['the first positional starts the command', ['--env', 'T=env:S', 'sh', '-c', 'echo "$T"'], { envs: [{ name: 'T', ref: 'env:S' }], command: ['sh', '-c', 'echo "$T"'] }],
    ["the command's own flags are its own", ['npm', '--secret', 'x', '--mask', '--', 'y'], { secrets: [], mask: false, command: ['npm', '--secret', 'x', '--mask', '--', 'y'] }],
    ['-- before a command that starts with a dash', ['--', '-weird'], { command: ['-weird'] }],
    ['--env=VAR=REF, a value with "="', ['--env=T=cmd:printf a=b', 'true'], { envs: [{ name: 'T', ref: 'cmd:printf a=b' }], command: ['true'] }],
    ['own options', ['--netrc', 'machine=h,login=l,password=env:P', '--npmrc', 'registry=https://r/,token=env:T', '--config', 'c.yml', '--dry-run', '--tmpdir', '/t', '--require-tmpfs', '--no-mask', '--report', 'r.json', 'x'],
      { netrc: ['machine=h,login=l,password=env:P'], npmrc: ['registry=https://r/,token=env:T'], config: 'c.yml', dryRun: true, tmpdir: '/t', requireTmpfs: true, noMask: true, report: 'r.json', command: ['x'] }],
    ['--help needs no command', ['--help'], { help: true, command: [] }],
  ])('%s', (_name, argv, want) => {
    expect(parseExecArgs(argv)).toMatchObject(want);
  });

  test.each<[string, string[], RegExp]>([
    ['no command', ['--secret', 'id=a,from=env:A'], /needs a command to run: secbuild exec \[options\] -- COMMAND/],
    ['nothing after --', ['--'], /needs a command/],
    ['--env without "="', ['--env', 'T', 'x'], /--env T needs the form VAR=REF/],
    ['--env with a bad name, not echoed', ['--env', '1T=ghp_pasted', 'x'], /^an --env value needs the form VAR=REF/],
    ['--env given twice', ['--env', 'T=env:A', '--env', 'T=env:B', 'x'], /--env T is given twice/],
    ['a typo of an option', ['--secrt', 'id=a', 'x'], /unknown option --secrt; did you mean --secret\?/],
    ['an unknown option', ['--foo', 'x'], /unknown option --foo: not a secbuild exec option; the command's own options go after it/],
    ["build's --verify", ['--verify', 'x'], /unknown option --verify/],
    ['--mask and --no-mask', ['--mask', '--no-mask', 'x'], /contradict/],
  ])('refused: %s', (_name, argv, message) => {
    expect(() => parseExecArgs(argv)).toThrow(message);
  });
});

const ref = (id: string, origin = `--secret id=${id}`): SecretSpec => ({ kind: 'ref', id, optional: false, mount: true, origin: showTyped(origin), ref: { scheme: 'env', key: 'X', baseDir: '/' } });
const netrc = (id = 'netrc'): SecretSpec => ({ kind: 'netrc', id, optional: false, mount: true, origin: showTyped('--netrc'), entries: [] });
const npmrc = (id = 'npmrc'): SecretSpec => ({ kind: 'npmrc', id, optional: false, mount: true, origin: showTyped('--npmrc'), entries: [] });
const template = (id: string, env?: string): SecretSpec => ({ kind: 'template', id, optional: false, mount: true, origin: showTyped(`secbuild.yml secrets.${id}`), path: '/t', ...(env ? { env } : {}) });

describe('plannedVars', () => {
  test('every variable exec sets, with where it comes from', () => {
    const specs = [ref('tok'), netrc(), npmrc(), template('pip_conf', 'PIP_CONFIG_FILE'), { ...ref('$T', '--env T'), mount: false }];
    expect(plannedVars(specs, [{ name: 'T' }]).map((d) => [d.name, d.id])).toEqual([
      ['SECBUILD_SECRETS', undefined], ['NETRC', 'netrc'], ['GIT_CONFIG_COUNT', 'netrc'], ['NPM_CONFIG_USERCONFIG', 'npmrc'], ['PIP_CONFIG_FILE', 'pip_conf'], ['T', '$T'],
    ]);
  });

  test.each<[string, SecretSpec[], string[], RegExp]>([
    ['two .netrc files', [netrc('a'), netrc('b')], [], /one \.netrc file, and "a" \(--netrc\) and "b" \(--netrc\) are two; give their entries one id/],
    ['two .npmrc files', [npmrc('a'), npmrc('b')], [], /one \.npmrc file/],
    ['--env of a variable exec sets', [netrc()], ['NETRC'], /NETRC would be set twice, by --netrc and by --env NETRC/],
    ['--env SECBUILD_SECRETS', [], ['SECBUILD_SECRETS'], /SECBUILD_SECRETS would be set twice/],
    ['a template env: and --env', [template('c', 'PIP_CONFIG_FILE')], ['PIP_CONFIG_FILE'], /PIP_CONFIG_FILE would be set twice, by secbuild.yml secrets.c.env and by --env PIP_CONFIG_FILE/],
    ['two templates, one variable', [template('a', 'V'), template('b', 'V')], [], /V would be set twice/],
  ])('refused: %s', (_name, specs, envs, message) => {
    expect(() => plannedVars(specs, envs.map((name) => ({ name })))).toThrow(message);
  });
});

describe('envValues', () => {
  const secret = (name: string, bytes: Buffer) => new Secret(`$${name}`, 'env:SRC', bytes);
  test('a value is handed over as its UTF-8 text, byte-exact', () => {
    expect(envValues([secret('T', Buffer.from('välue\n'))], [{ name: 'T' }])).toEqual(new Map([['T', 'välue\n']]));
  });
  test.each<[string, Buffer, RegExp]>([
    ['a NUL byte', Buffer.from('a\0b'), /--env T: the value of env:SRC contains a NUL byte, which an environment variable cannot hold; deliver it as a file instead: --secret id=T,from=env:SRC/],
    ['bytes that are not UTF-8', Buffer.from([0x61, 0xff, 0x62]), /--env T: the value of env:SRC is not UTF-8 text/],
  ])('refused: %s, never showing the value', (_name, bytes, message) => {
    let error: Error | undefined;
    try {
      envValues([secret('T', bytes)], [{ name: 'T' }]);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain('a\0b');
  });
});

describe('deliveredVars', () => {
  const dir = '/dev/shm/secbuild-1-abcdef';
  const files = [{ id: 'netrc', path: `${dir}/netrc` }, { id: 'npmrc', path: `${dir}/npmrc` }, { id: 'pip_conf', path: `${dir}/pip_conf` }];
  const specs = [netrc(), npmrc(), template('pip_conf', 'PIP_CONFIG_FILE'), { ...ref('$T', '--env T'), mount: false }];
  const planned = plannedVars(specs, [{ name: 'T' }]);

  test('paths for files, the value only for --env, git appended after the user\'s own config', () => {
    const base = scrubEnv({ PATH: '/bin', GIT_CONFIG_COUNT: '2', npm_config_userconfig: '/root/.npmrc', Npm_Config_UserConfig: '/x' }, new Set());
    const vars = deliveredVars({ planned, dir, files, values: new Map([['T', 'v']]), base });
    expect(vars).toEqual({
      SECBUILD_SECRETS: dir,
      NETRC: `${dir}/netrc`,
      GIT_CONFIG_COUNT: '3',
      GIT_CONFIG_KEY_2: 'credential.helper',
      GIT_CONFIG_VALUE_2: gitCredentialHelper(`${dir}/netrc`),
      npm_config_userconfig: undefined,
      Npm_Config_UserConfig: undefined,
      NPM_CONFIG_USERCONFIG: `${dir}/npmrc`,
      PIP_CONFIG_FILE: `${dir}/pip_conf`,
      T: 'v',
    });
  });

  test('no GIT_CONFIG_COUNT of the user: index 0; an optional file not written sets nothing', () => {
    const vars = deliveredVars({ planned, dir, files: [files[0]!], values: new Map(), base: scrubEnv({}, new Set()) });
    expect(vars).toMatchObject({ GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'credential.helper', NPM_CONFIG_USERCONFIG: undefined, PIP_CONFIG_FILE: undefined, T: undefined });
  });

  test('the helper quotes the path for sh', () => {
    expect(gitCredentialHelper("/tmp/it's here/netrc")).toContain(`$(cat '/tmp/it'\\''s here/netrc')`);
    expect(gitCredentialHelper('/x/netrc')).toMatch(/^!f\(\) \{ test "\$1" = get \|\| return 0;/);
  });

  test('the dry run names paths and variables, and shows an --env value as ***', () => {
    const lines = dryRunLines(planned, dir, files, ['npm', 'ci'], (a) => a.join(' '));
    expect(lines).toEqual([
      'command: npm ci',
      'environment: the scrubbed environment (every variable a secret is read from removed), plus:',
      `  SECBUILD_SECRETS=${dir}`,
      `  NETRC=${dir}/netrc`,
      `  GIT_CONFIG_COUNT, GIT_CONFIG_KEY_n, GIT_CONFIG_VALUE_n: git's credential.helper reading ${dir}/netrc`,
      `  NPM_CONFIG_USERCONFIG=${dir}/npmrc`,
      `  PIP_CONFIG_FILE=${dir}/pip_conf`,
      '  T=*** (the value of env:X)',
      'files:',
      ...files.map((f) => `  ${f.path} (secret "${f.id}", 0600)`),
    ]);
  });
});

describe('authSock: the agent exec hands the command as SSH_AUTH_SOCK', () => {
  test.each<[string, string[], Record<string, string | undefined>]>([
    ['no agent: nothing set or removed', [], {}],
    ['one agent, whatever its id', ['gh=/run/d/agent-0.sock'], { SSH_AUTH_SOCK: '/run/d/agent-0.sock' }],
    ['several: the default id\'s', ['gh=/run/d/agent-0.sock', 'default=/run/d/agent-1.sock'], { SSH_AUTH_SOCK: '/run/d/agent-1.sock' }],
    ['several, none default: removed', ['gh=/a.sock', 'gl=/b.sock'], { SSH_AUTH_SOCK: undefined }],
  ])('%s', (_, ssh, want) => {
    expect(authSock(ssh)).toEqual(want);
  });
});
