/**
 * The daemon a docker child talks to, as far as secbuild must warn about it.
 * The secrets travel from the client to the builder over the BuildKit
 * session, inside the docker API connection: over `tcp://` without TLS that
 * connection is plain text on the network. (Pure: the child's environment in.)
 */
import type { ChildEnv } from '../../run/env.js';

/** One warning line when DOCKER_HOST is tcp:// without TLS, else undefined. */
export function unencryptedSessionWarning(env: ChildEnv | NodeJS.ProcessEnv): string | undefined {
  const host = env.DOCKER_HOST ?? '';
  if (!/^tcp:\/\//i.test(host)) return undefined;
  if (env.DOCKER_TLS_VERIFY || env.DOCKER_TLS) return undefined;
  return `DOCKER_HOST=${host} without TLS: the BuildKit session that carries the secrets to the builder is unencrypted; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH, or use ssh:// or a TLS context.`;
}
