/**
 * docker as an `Engine` (../engine.ts): detection and the BuildKit
 * environment of ./detect.ts, the daemon check of ./daemon.ts, `docker save`
 * for verify.
 */
import type { ChildEnv } from '../../run/env.js';
import type { Engine } from '../engine.js';
import { dockerBuildArgv } from './argv.js';
import { archiveSocket, requireDaemon } from './reach.js';
import { buildEnv, detectEngine } from './detect.js';
import { unencryptedSessionWarning } from './endpoint.js';
import { warn } from '../../util/log.js';

export function dockerEngine(bin: string): Engine {
  let warned = false;
  /** The unencrypted-session warning, once per run: from detection, or before the daemon check stops the run. */
  const warnPlain = (env: ChildEnv) => {
    const plain = warned ? undefined : unencryptedSessionWarning(env);
    warned = true;
    if (plain) warn(plain);
  };
  return {
    name: 'docker',
    bin,
    buildArgv: dockerBuildArgv,
    async detect(env: ChildEnv) {
      warnPlain(env);
      const e = await detectEngine(bin, env);
      return { docker: e.docker, clientVersion: e.clientVersion, buildkit: e.buildkit };
    },
    requireDaemon: (env, dockerArgs) =>
      requireDaemon(env, { dockerArgs }).catch((err: unknown) => {
        warnPlain(env);
        throw err;
      }),
    startBuild: (env) => ({ env: buildEnv(env) }),
    dryRunPrefix: () => 'DOCKER_BUILDKIT=1 ',
    plainProgressFlag: true,
    saveArgv: (image) => ['save', image],
    archiveSocket,
  };
}
