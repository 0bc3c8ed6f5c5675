/**
 * The docker CLI's config directory ($DOCKER_CONFIG, else ~/.docker) and the
 * files in it secbuild reads (config.json, a context's meta.json, buildx's
 * `current`): a regular file only, at most MAX_CONFIG_BYTES of it; a FIFO, a
 * device or a larger file is read as absent (../../util/read.ts).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readRegularSync } from '../../util/read.js';

/** The most of a docker config file (config.json, a context's meta.json) secbuild reads. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export function configDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

/** The text of a docker config file, or undefined when it is absent, unreadable, not a regular file or too large. */
export function readConfigText(path: string): string | undefined {
  try {
    return readRegularSync(path, MAX_CONFIG_BYTES)?.toString('utf8');
  } catch {
    return undefined;
  }
}

/** config.json's `cliPluginsExtraDirs`: the extra directories docker searches for CLI plugins (none when unreadable). */
export function pluginExtraDirs(env: NodeJS.ProcessEnv): string[] {
  const text = readConfigText(join(configDir(env), 'config.json'));
  let dirs: unknown;
  try {
    dirs = text === undefined ? undefined : (JSON.parse(text) as { cliPluginsExtraDirs?: unknown } | null)?.cliPluginsExtraDirs;
  } catch {
    return [];
  }
  return Array.isArray(dirs) ? dirs.filter((d): d is string => typeof d === 'string' && d !== '') : [];
}
