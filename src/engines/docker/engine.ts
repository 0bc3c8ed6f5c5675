/**
 * docker as an `Engine` (../engine.ts): detection and the BuildKit
 * environment of ./detect.ts, `docker save` for verify.
 */
import type { ChildEnv } from '../../run/env.js';
import type { Engine } from '../engine.js';
import { dockerBuildArgv } from './argv.js';
import { buildEnv, detectEngine } from './detect.js';
import { unencryptedSessionWarning } from './endpoint.js';
import { warn } from '../../util/log.js';

export function dockerEngine(bin: string): Engine {
  return {
    name: 'docker',
    bin,
    buildArgv: dockerBuildArgv,
    async detect(env: ChildEnv) {
      const plain = unencryptedSessionWarning(env);
      if (plain) warn(plain);
      const e = await detectEngine(bin, env);
      return { docker: e.docker, clientVersion: e.clientVersion, buildkit: e.buildkit };
    },
    startBuild: (env) => ({ env: buildEnv(env) }),
    dryRunPrefix: () => 'DOCKER_BUILDKIT=1 ',
    plainProgressFlag: true,
    saveArgv: (image) => ['save', image],
  };
}
