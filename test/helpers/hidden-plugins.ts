/**
 * The machine's docker CLI plugins (buildx, compose) are installed system-wide
 * by .ci/provision.sh. A test that needs a 23+ docker CLI without buildx runs
 * its command in a private mount namespace (`unshare -m`, root only) where an
 * empty directory is bound over each system plugin directory: there the real
 * docker 28 finds no plugin but those in $DOCKER_CONFIG/cli-plugins. Nothing
 * outside that namespace changes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Missing } from './ci.js';

/** Where the docker CLI looks for plugins after $DOCKER_CONFIG/cli-plugins. */
export const SYSTEM_PLUGINS = ['/usr/local/lib/docker/cli-plugins', '/usr/local/libexec/docker/cli-plugins', '/usr/lib/docker/cli-plugins', '/usr/libexec/docker/cli-plugins'];

/** Why commands cannot run with the plugins hidden here, or nothing. */
export function hidePluginsMissing(): Missing {
  if (process.geteuid?.() !== 0) return 'hiding the docker plugin directories binds over them in a mount namespace, which needs root';
  if (spawnSync('unshare', ['--version'], { stdio: 'ignore' }).status !== 0) return 'unshare (util-linux) is missing';
  return undefined;
}

/**
 * The argv prefix that runs a command (its argv follows) with every existing
 * system plugin directory hidden under `dir`/empty (made here).
 */
export function withoutSystemPlugins(dir: string): string[] {
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  const binds = SYSTEM_PLUGINS.filter(existsSync).map((d) => `mount --bind '${empty}' '${d}'`);
  return ['unshare', '-m', '--propagation', 'private', '/bin/sh', '-c', `${['true', ...binds].join(' && ')} && exec "$@"`, 'sh'];
}
