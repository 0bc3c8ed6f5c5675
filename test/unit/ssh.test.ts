/**
 * SSH keys (issue 15): the key check (src/secrets/sshkey.ts) against keys
 * ssh-keygen writes — format, type, passphrase, and the fingerprint ssh-keygen
 * itself prints; `--ssh-key` and secbuild.yml `ssh:` parsing; the ssh-id
 * preflight rule; and the throw-away agent (src/run/agent.ts) with the real
 * ssh-agent/ssh-add: keys arrive, the socket goes with stop().
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parse as yaml } from 'yaml';
import { sshIdFindings } from '../../src/check/secret-ids.js';
import { agentSocket, startAgents } from '../../src/run/agent.js';
import { parseConfig } from '../../src/secrets/config.js';
import { checkSshConflicts, dockerSshIds, mergeSsh, parseSshKeyFlag, sshSpecs } from '../../src/secrets/ssh.js';
import { inspectKey } from '../../src/secrets/sshkey.js';
import { onPath, skipUnlessCI } from '../helpers/ci.js';

const noKeygen = ['ssh-keygen', 'ssh-agent', 'ssh-add'].every((t) => onPath(t)) ? undefined : 'ssh-keygen, ssh-agent or ssh-add is not on PATH (openssh-client)';
const skip = skipUnlessCI(noKeygen, 'ssh: the ssh-keygen and ssh-agent cases');
const dir = mkdtempSync(join(tmpdir(), 'secbuild-unit-ssh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A key written by ssh-keygen, and the fingerprint ssh-keygen -l prints for it. */
function keygen(args: string[], passphrase = ''): { key: Buffer; fingerprint: string } {
  const path = join(dir, `k${n++}`);
  execFileSync('ssh-keygen', ['-q', '-N', passphrase, '-C', 'unit', '-f', path, ...args]);
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { key: readFileSync(path), fingerprint };
}

describe.skipIf(skip)('inspectKey: the key ssh-keygen wrote, described as ssh-keygen describes it', () => {
  const cases: Array<[string, string[], string, 'openssh' | 'pem']> = [
    ['OpenSSH ed25519', ['-t', 'ed25519'], 'ssh-ed25519', 'openssh'],
    ['OpenSSH RSA', ['-t', 'rsa', '-b', '2048'], 'ssh-rsa', 'openssh'],
    ['OpenSSH ECDSA P-256', ['-t', 'ecdsa', '-b', '256'], 'ecdsa-sha2-nistp256', 'openssh'],
    ['PEM RSA (PKCS#1)', ['-t', 'rsa', '-b', '2048', '-m', 'PEM'], 'ssh-rsa', 'pem'],
    ['PEM EC P-384 (SEC1)', ['-t', 'ecdsa', '-b', '384', '-m', 'PEM'], 'ecdsa-sha2-nistp384', 'pem'],
    ['PEM EC P-521 (SEC1)', ['-t', 'ecdsa', '-b', '521', '-m', 'PEM'], 'ecdsa-sha2-nistp521', 'pem'],
    ['PKCS#8 RSA', ['-t', 'rsa', '-b', '2048', '-m', 'PKCS8'], 'ssh-rsa', 'pem'],
  ];
  test.each(cases)('%s: type, format and fingerprint', (_name, args, type, format) => {
    const { key, fingerprint } = keygen(args);
    const info = inspectKey(key);
    expect(info).toMatchObject({ format, type, fingerprint, encrypted: false });
  });

  test('PKCS#8 Ed25519 (node:crypto) has the fingerprint of its public half', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), raw]);
    const pub = join(dir, 'node.pub');
    writeFileSync(pub, `ssh-ed25519 ${blob.toString('base64')} x\n`);
    const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', pub], { encoding: 'utf8' }).split(' ')[1];
    expect(inspectKey(Buffer.from(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string))).toMatchObject({ type: 'ssh-ed25519', fingerprint });
  });

  test.each([
    ['OpenSSH', ['-t', 'ed25519']],
    ['PEM (Proc-Type: 4,ENCRYPTED)', ['-t', 'rsa', '-b', '2048', '-m', 'PEM']],
    ['PKCS#8 (ENCRYPTED PRIVATE KEY)', ['-t', 'rsa', '-b', '2048', '-m', 'PKCS8']],
  ])('a passphrase-protected %s key is recognised as encrypted', (_name, args) => {
    expect(inspectKey(keygen(args, 'hunter2-pass').key).encrypted).toBe(true);
  });

  test('CRLF line ends, surrounding blank lines and a missing final newline are normalised', () => {
    const { key, fingerprint } = keygen(['-t', 'ed25519']);
    const messy = Buffer.from(`\n\n${key.toString().trim().replace(/\n/g, '\r\n')}  \r\n\r\n`);
    const info = inspectKey(messy);
    expect(info.fingerprint).toBe(fingerprint);
    expect(info.normalized.equals(key)).toBe(true);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a token', 'ghp_notakeyatall1234567890', /does not start with a "-----BEGIN/],
    ['a public key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB x', /looks like a public key/],
    ['a certificate', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', /"CERTIFICATE" block is not a private key/],
    ['no END line', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n', /no matching END line/],
    ['a damaged body', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA!!\n-----END OPENSSH PRIVATE KEY-----\n', /not base64/],
    ['not openssh-key-v1', '-----BEGIN OPENSSH PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END OPENSSH PRIVATE KEY-----\n', /openssh-key-v1/],
    ['a cut-short container', `-----BEGIN OPENSSH PRIVATE KEY-----\n${Buffer.from('openssh-key-v1\0\0\0\0\x04no').toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`, /cut short/],
  ];
  test.each(bad)('%s is refused, and the message never quotes the value', (_name, value, why) => {
    let message = '';
    try {
      inspectKey(Buffer.from(value));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(why);
    for (const line of value.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))) expect(message).not.toContain(line);
  });

  test('two keys in one value are refused', () => {
    const a = keygen(['-t', 'ed25519']).key.toString();
    expect(() => inspectKey(Buffer.from(a + a))).toThrow(/more than the one key block/);
  });
});

describe('--ssh-key and secbuild.yml ssh:', () => {
  test.each([
    ['env:DEPLOY_KEY', 'default', 'env'],
    ['gitlab=env:GL_KEY', 'gitlab', 'env'],
    ['cmd:printf a=b', 'default', 'cmd'],
    ['x.y_z=keychain:ci/deploy', 'x.y_z', 'keychain'],
  ])('--ssh-key %s: ssh id %s', (value, id, scheme) => {
    const { id: got, spec } = parseSshKeyFlag(value, '/w');
    expect(got).toBe(id);
    expect(spec).toMatchObject({ ssh: id, mount: false, ref: { scheme } });
  });

  test.each([
    ['-bad=env:X', /ssh id "-bad" must start/],
    ['gitlab=', /no reference after "="/],
    ['nope:X', /is not a secret reference \("nope:" is not a known scheme\)/],
  ])('--ssh-key %s is a usage error', (value, why) => {
    expect(() => parseSshKeyFlag(value, '/w')).toThrow(why);
  });

  test('several keys for one id: one spec each, in order; a command-line id replaces the config one', () => {
    const cli = sshSpecs([parseSshKeyFlag('a=env:A1', '/w'), parseSshKeyFlag('a=env:A2', '/w'), parseSshKeyFlag('env:D', '/w')]);
    expect(cli.map((s) => s.id)).toEqual(['ssh:a', 'ssh:a#2', 'ssh:default']);
    const config = parseConfig('ssh:\n  a: env:CA\n  b: { from: [env:B1, file:./b2] }\n', '/w/secbuild.yml', yaml);
    expect(config.specs.map((s) => s.id)).toEqual(['ssh:a', 'ssh:b', 'ssh:b#2']);
    const merged = mergeSsh(config.specs as never, cli);
    expect(merged.map((s) => `${s.id}<-${s.ref.key}`)).toEqual(['ssh:b<-B1', 'ssh:b#2<-./b2', 'ssh:a<-A1', 'ssh:a#2<-A2', 'ssh:default<-D']);
  });

  test.each([
    ['ssh: [a]\n', /ssh: expected a mapping/],
    ['ssh:\n  a: { from: env:A, passphrase: env:P }\n', /ssh\.a\.passphrase: expected no passphrase/],
    ['ssh:\n  a: { frm: env:A }\n', /ssh\.a\.frm: expected one of from, description/],
    ['ssh:\n  a: { from: [] }\n', /ssh\.a\.from: expected at least one reference/],
    ['ssh:\n  a: { from: [3] }\n', /ssh\.a\.from\[0\]: expected a reference/],
  ])('config %j is refused naming the key path', (text, why) => {
    expect(() => parseConfig(text, '/w/secbuild.yml', yaml)).toThrow(why);
  });

  test("docker's own --ssh ids, and the same id from both is a usage error", () => {
    expect(dockerSshIds(['default', 'gh=/tmp/a.sock', 'x=/k1,/k2', '=/odd'])).toEqual(['default', 'gh', 'x', 'default']);
    const specs = sshSpecs([parseSshKeyFlag('gh=env:K', '/w')]);
    expect(() => checkSshConflicts(specs, ['default'])).not.toThrow();
    expect(() => checkSshConflicts(specs, ['gh=/tmp/a.sock'])).toThrow(/ssh id "gh" is given twice: by docker's --ssh gh=\/tmp\/a.sock and by --ssh-key gh=env:K/);
  });
});

describe('the ssh-id preflight rule', () => {
  const mounts = [
    { id: 'default', line: 3, stage: 's', required: false },
    { id: 'gh', line: 5, stage: 's', required: true },
  ];
  test('a mounted id nothing forwards is an error naming the line; a forwarded id nothing mounts is a warning', () => {
    const f = sshIdFindings(mounts, '/c/Dockerfile', new Set(['gh', 'spare']));
    expect(f.map((x) => [x.rule, x.level, x.line])).toEqual([['ssh-id-missing', 'error', 3], ['ssh-id-unused', 'warning', undefined]]);
    expect(f[0]!.message).toMatch(/^\/c\/Dockerfile:3: RUN mounts ssh id "default" but no key or agent is forwarded for it; BuildKit would forward no agent/);
    expect(f[0]!.message).toContain('Add --ssh-key env:DEPLOY_KEY');
    expect(f[1]!.message).toContain('ssh id "spare" is forwarded but no RUN');
  });
  test('required=true says BuildKit would stop; every id forwarded: no finding', () => {
    expect(sshIdFindings(mounts, 'D', new Set(['default']))[0]!.explanation).toContain('required=true, so BuildKit would stop the build');
    expect(sshIdFindings(mounts, 'D', new Set(['default', 'gh']))).toEqual([]);
  });
});

describe.skipIf(skip)('the throw-away agent (real ssh-agent and ssh-add)', () => {
  test('one agent per id holds exactly its keys; stop() ends it and removes the socket', async () => {
    const run = mkdtempSync(join('/dev/shm', 'secbuild-unit-agent-'));
    try {
      const a = keygen(['-t', 'ed25519']);
      const b = keygen(['-t', 'rsa', '-b', '2048', '-m', 'PEM']);
      const c = keygen(['-t', 'ecdsa', '-b', '256']);
      const agents = await startAgents(run, [
        { id: 'default', sources: ['env:A', 'env:B'], keys: [inspectKey(a.key).normalized, inspectKey(b.key).normalized] },
        { id: 'other', sources: ['env:C'], keys: [inspectKey(c.key).normalized] },
      ], process.env);
      expect(agents.flags).toEqual([`default=${agentSocket(run, 0)}`, `other=${agentSocket(run, 1)}`]);
      const list = (i: number) => execFileSync('ssh-add', ['-l'], { env: { PATH: process.env.PATH, SSH_AUTH_SOCK: agentSocket(run, i) }, encoding: 'utf8' });
      expect(list(0)).toContain(a.fingerprint);
      expect(list(0)).toContain(b.fingerprint);
      expect(list(0)).not.toContain(c.fingerprint);
      expect(list(1)).toContain(c.fingerprint);
      await agents.stop();
      expect(existsSync(agentSocket(run, 0))).toBe(false);
      expect(existsSync(agentSocket(run, 1))).toBe(false);
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });

  test('ssh-agent missing from PATH: a usage error naming openssh-client', async () => {
    const run = mkdtempSync(join('/dev/shm', 'secbuild-unit-agent-'));
    try {
      await expect(startAgents(run, [{ id: 'default', sources: ['env:A'], keys: [Buffer.from('x')] }], { PATH: run })).rejects.toThrow(/ssh-agent was not found on PATH.*install openssh-client/i);
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });

  test('a key ssh-add refuses stops the agent already started and names the source, not the key', async () => {
    const run = mkdtempSync(join('/dev/shm', 'secbuild-unit-agent-'));
    try {
      const junk = Buffer.from('-----BEGIN OPENSSH PRIVATE KEY-----\nAAAAjunkjunkjunk\n-----END OPENSSH PRIVATE KEY-----\n');
      const err = await startAgents(run, [{ id: 'default', sources: ['env:JUNK'], keys: [junk] }], process.env).catch((e: Error) => e);
      expect(String(err)).toMatch(/ssh-add refused the key from env:JUNK for ssh id "default"/);
      expect(String(err)).not.toContain('AAAAjunk');
      for (let i = 0; i < 250 && existsSync(agentSocket(run, 0)); i++) await new Promise((r) => setTimeout(r, 20));
      expect(existsSync(agentSocket(run, 0))).toBe(false);
    } finally {
      rmSync(run, { recursive: true, force: true });
    }
  });
});
