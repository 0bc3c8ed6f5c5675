/**
 * The daemon a docker child talks to, as far as secbuild must warn about it.
 * The secrets travel from the client to the builder over the BuildKit
 * session, inside the docker API connection: over `tcp://` without TLS that
 * connection is plain text on the network — through DOCKER_HOST (without
 * DOCKER_TLS_VERIFY/DOCKER_TLS) or a docker context whose tcp:// endpoint has
 * no TLS in docker's context store. (Pure but for reading docker's config.)
 */
import type { ChildEnv } from '../../run/env.js';
import { dockerEndpoint, type ReadText } from './reach.js';

/** One warning line when the daemon is reached over tcp:// without TLS, else undefined. */
export function unencryptedSessionWarning(env: ChildEnv | NodeJS.ProcessEnv, read?: ReadText): string | undefined {
  const e = dockerEndpoint(env, {}, read);
  if (!e || !/^tcp:\/\//i.test(e.host)) return undefined;
  const session = 'the BuildKit session that carries the secrets to the builder is unencrypted';
  if (e.context === undefined) {
    if (env.DOCKER_TLS_VERIFY || env.DOCKER_TLS) return undefined;
    return `DOCKER_HOST=${e.host} without TLS: ${session}; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or use ssh:// or a TLS context.`;
  }
  if (e.tls) return undefined;
  const which = e.from.startsWith('docker context') ? e.from : `docker context "${e.context}" (${e.from})`;
  return `${which} is ${e.host} without TLS: ${session}; recreate it with --docker host=…,ca=…,cert=…,key=…, or use ssh://.`;
}
