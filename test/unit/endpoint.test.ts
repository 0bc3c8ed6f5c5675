/**
 * The one warning line for a plain-text BuildKit session (issue 23 item 3):
 * DOCKER_HOST=tcp:// without DOCKER_TLS_VERIFY/DOCKER_TLS, and a docker
 * context whose endpoint is tcp:// with no TLS material in docker's context
 * store (contexts/tls/<sha256 of the name>/docker/*.pem, as `docker context
 * create --docker host=…,ca=…,cert=…,key=…` writes it) and no skip-tls-verify.
 * Files are read through an injected reader: no docker.
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { unencryptedSessionWarning } from '../../src/engines/docker/endpoint.js';

const hash = (name: string) => createHash('sha256').update(name).digest('hex');
const meta = (name: string, host: string, skip = false) => [`/cfg/contexts/meta/${hash(name)}/meta.json`, JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: skip } } })];
const files: Record<string, string> = Object.fromEntries([
  meta('plain', 'tcp://10.0.0.5:2375'),
  meta('tls', 'tcp://10.0.0.5:2376'),
  meta('skip', 'tcp://10.0.0.5:2376', true),
  meta('local', 'unix:///run/docker.sock'),
  [`/cfg/contexts/tls/${hash('tls')}/docker/ca.pem`, '-----BEGIN CERTIFICATE-----'],
  ['/cfg/config.json', '{"currentContext":"plain"}'],
]);
const read = (p: string) => files[p];

describe('unencryptedSessionWarning', () => {
  test.each<[string, NodeJS.ProcessEnv, RegExp | undefined]>([
    ['DOCKER_HOST=tcp:// without TLS', { DOCKER_HOST: 'tcp://10.0.0.5:2375' }, /^DOCKER_HOST=tcp:\/\/10\.0\.0\.5:2375 without TLS: the BuildKit session .* is unencrypted/],
    ['DOCKER_HOST=tcp:// with DOCKER_TLS_VERIFY', { DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_TLS_VERIFY: '1' }, undefined],
    ['DOCKER_HOST=unix://', { DOCKER_HOST: 'unix:///var/run/docker.sock' }, undefined],
    ['a tcp:// context without TLS (DOCKER_CONTEXT, as --context sets it)', { DOCKER_CONTEXT: 'plain', DOCKER_CONFIG: '/cfg' }, /^docker context "plain" \(DOCKER_CONTEXT=plain\) is tcp:\/\/10\.0\.0\.5:2375 without TLS: the BuildKit session .* is unencrypted; .*ca=.*cert=.*key=/],
    ['the current context, tcp:// without TLS', { DOCKER_CONFIG: '/cfg' }, /^docker context "plain" \(docker context use\) is tcp:\/\/.* unencrypted/],
    ['a tcp:// context with TLS material in the store', { DOCKER_CONTEXT: 'tls', DOCKER_CONFIG: '/cfg' }, undefined],
    ['a tcp:// context with skip-tls-verify (encrypted, not verified)', { DOCKER_CONTEXT: 'skip', DOCKER_CONFIG: '/cfg' }, undefined],
    ['a unix:// context', { DOCKER_CONTEXT: 'local', DOCKER_CONFIG: '/cfg' }, undefined],
    ['a context secbuild cannot read', { DOCKER_CONTEXT: 'gone', DOCKER_CONFIG: '/cfg' }, undefined],
    ['DOCKER_TLS_VERIFY does not make a plain context TLS (docker reads TLS from the context store)', { DOCKER_CONTEXT: 'plain', DOCKER_CONFIG: '/cfg', DOCKER_TLS_VERIFY: '1' }, /unencrypted/],
  ])('%s', (_, env, want) => {
    const w = unencryptedSessionWarning(env, read);
    if (want) expect(w).toMatch(want);
    else expect(w).toBeUndefined();
  });
});
