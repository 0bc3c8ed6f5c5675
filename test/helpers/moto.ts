/**
 * A real AWS emulator for the aws-sm: and aws-ssm: tests: moto_server (Debian
 * trixie's python3-moto, in the image scripts/moto-up.sh builds and
 * .ci/provision.sh provides), one container per test run on a free
 * 127.0.0.1 port, named secbuild-moto-test-PORT, removed by stop(). The
 * Debian awscli on the host talks to it with dummy credentials; ~/.aws is
 * not read (AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE are /dev/null).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { onPath, type Missing } from './ci.js';
import { ROOT } from './cli.js';
import { freePort } from './servers.js';

const DOCKER = process.env.SECBUILD_TEST_DOCKER || '/usr/bin/docker';

export interface Moto {
  /** The environment that reaches the emulator: dummy credentials, region, endpoint. */
  readonly env: Record<string, string>;
  /** Runs `aws ARGS` against the emulator (stdin: `input`); throws on failure. */
  aws(args: string[], input?: Buffer): Buffer;
  stop(): void;
}

export function motoMissing(): Missing {
  if (!onPath('aws')) return 'the aws CLI is not installed (apt-get install --no-install-recommends awscli)';
  if (spawnSync(DOCKER, ['info'], { stdio: 'ignore', timeout: 20_000 }).status !== 0) return `no Docker daemon answers ${DOCKER} (moto_server runs in a container)`;
  return undefined;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const name = `secbuild-moto-test-${port}`;
  const scriptEnv = { ...process.env, DOCKER, NAME: name, PORT: String(port), IMAGE: 'secbuild-test/moto:local' };
  execFileSync('bash', [join(ROOT, 'scripts', 'moto-up.sh')], { env: scriptEnv, stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const env = {
    AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
  };
  return {
    env,
    aws(args, input) {
      const all = { ...process.env, ...env, AWS_DEFAULT_REGION: env.AWS_REGION, AWS_PAGER: '' };
      return execFileSync('aws', ['--endpoint-url', env.AWS_ENDPOINT_URL, ...args], { env: all, input, stdio: ['pipe', 'pipe', 'pipe'] });
    },
    stop() {
      execFileSync('bash', [join(ROOT, 'scripts', 'moto-down.sh')], { env: scriptEnv, stdio: 'ignore' });
    },
  };
}
