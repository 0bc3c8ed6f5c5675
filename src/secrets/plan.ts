/**
 * From parsed flags to specs: the config file and the command line merged,
 * the environment for children computed. Shared by build, secrets and doctor.
 */
import type { SecretFlags } from '../args/own.js';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { scrubEnv, type ChildEnv } from '../run/env.js';
import { mergeSpecs, sensitiveEnvVars } from './resolve.js';
import { isSshSpec, mergeSsh, parseSshKeyFlag, sshSpecs } from './ssh.js';
import { groupEntries, parseNetrcFlag, parseNpmrcFlag, parseSecretFlag, type SecretSpec } from './spec.js';

export interface SpecPlan {
  specs: SecretSpec[];
  configPath?: string;
  env: NodeJS.ProcessEnv;
  /** The environment children get: every variable a secret is read from removed, and SECBUILD_CACHE_KEY. */
  childEnv: ChildEnv;
  sensitive: Set<string>;
}

export async function planSpecs(flags: SecretFlags, env: NodeJS.ProcessEnv, cwd: string): Promise<SpecPlan> {
  // The config module (and YAML) is loaded only when there is a config to read: a separate bundle.
  const wanted = flags.config !== undefined || ['secbuild.yml', 'secbuild.yaml'].some((n) => existsSync(resolvePath(cwd, n)));
  const config = wanted ? await (await import('./config.js')).loadConfig(flags.config, cwd) : undefined;
  const cli: SecretSpec[] = [
    // Errors say which flag of several (`--npmrc #2`), never what was typed in it.
    ...flags.secrets.map((s, i, all) => parseSecretFlag(s, env, cwd, all.length > 1 ? i : undefined, { ownership: flags.secretOwnership })),
    ...groupEntries('netrc', flags.netrc.map((s, i, all) => parseNetrcFlag(s, cwd, all.length > 1 ? i : undefined))),
    ...groupEntries('npmrc', flags.npmrc.map((s, i, all) => parseNpmrcFlag(s, cwd, all.length > 1 ? i : undefined))),
  ];
  const configSpecs = config?.specs ?? [];
  const ssh = mergeSsh(configSpecs.filter(isSshSpec), sshSpecs((flags.sshKeys ?? []).map((s) => parseSshKeyFlag(s, cwd))));
  const specs = [...mergeSpecs(configSpecs.filter((s) => !isSshSpec(s)), cli), ...ssh];
  const sensitive = sensitiveEnvVars(specs);
  return { specs, configPath: config?.path, env, childEnv: childEnvFor(env, specs), sensitive };
}

/**
 * The environment of every child of a command that resolves `specs` (exec
 * adds its --env specs, compose the project's own): through scrubEnv, which
 * also removes SECBUILD_CACHE_KEY.
 */
export function childEnvFor(env: NodeJS.ProcessEnv, specs: readonly SecretSpec[]): ChildEnv {
  return scrubEnv(env, sensitiveEnvVars(specs));
}
