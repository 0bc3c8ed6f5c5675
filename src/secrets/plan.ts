/**
 * From parsed flags to specs: the config file and the command line merged,
 * the environment for children computed. Shared by build, secrets and doctor.
 */
import type { SecretFlags } from '../args/own.js';
import { loadConfig } from './config.js';
import { scrubEnv, type ChildEnv } from '../run/env.js';
import { mergeSpecs, sensitiveEnvVars } from './resolve.js';
import { groupEntries, parseNetrcFlag, parseNpmrcFlag, parseSecretFlag, type SecretSpec } from './spec.js';

export interface SpecPlan {
  specs: SecretSpec[];
  configPath?: string;
  env: NodeJS.ProcessEnv;
  /** The environment children get: every variable a secret is read from removed. */
  childEnv: ChildEnv;
  sensitive: Set<string>;
}

export async function planSpecs(flags: SecretFlags, env: NodeJS.ProcessEnv, cwd: string): Promise<SpecPlan> {
  const config = await loadConfig(flags.config, cwd);
  const cli: SecretSpec[] = [
    ...flags.secrets.map((s) => parseSecretFlag(s, env, cwd)),
    ...groupEntries('netrc', flags.netrc.map((s) => parseNetrcFlag(s, cwd))),
    ...groupEntries('npmrc', flags.npmrc.map((s) => parseNpmrcFlag(s, cwd))),
  ];
  const specs = mergeSpecs(config?.specs ?? [], cli);
  const sensitive = sensitiveEnvVars(specs);
  return { specs, configPath: config?.path, env, childEnv: scrubEnv(env, sensitive), sensitive };
}
