/**
 * Which daemon every docker child of a run addresses: docker's global
 * `--context NAME` and `-H/--host URL`, given to secbuild, become
 * DOCKER_CONTEXT / DOCKER_HOST in the one child environment of the run
 * (src/run/env.ts withVars), so the probes, the build, `compose`, and
 * `image inspect` / `save` / `history` of --verify all reach the same daemon
 * without each argv having to carry the flag.
 *
 * docker resolves the daemon as: --context, then -H, then DOCKER_HOST, then
 * DOCKER_CONTEXT, then the config's current context (docker/cli
 * cli/command/cli.go resolveContextName). The variable DOCKER_CONTEXT loses
 * to DOCKER_HOST, the flag does not: so --context also removes DOCKER_HOST.
 *
 * Example: `secbuild --context d26 -t app .` runs `docker build …` with
 * DOCKER_CONTEXT=d26 and without DOCKER_HOST.
 */
import { UsageError } from '../../util/errors.js';
import { withVars, type ChildEnv } from '../../run/env.js';
import type { EngineName } from '../engine.js';
import { shellQuote } from './argv.js';

export interface DaemonChoice {
  context?: string;
  host?: string;
}

/** The variables that make a docker child address the chosen daemon (undefined: removed). Pure. */
export function daemonVars(o: DaemonChoice): Record<string, string | undefined> {
  if (o.context !== undefined) return { DOCKER_CONTEXT: o.context, DOCKER_HOST: undefined };
  if (o.host !== undefined) return { DOCKER_HOST: o.host, DOCKER_CONTEXT: undefined };
  return {};
}

/** `childEnv` addressing the daemon --context / -H name; refused for podman, which has neither. */
export function addressDaemon(engine: EngineName, childEnv: ChildEnv, o: DaemonChoice): ChildEnv {
  if (o.context === undefined && o.host === undefined) return childEnv;
  if (engine === 'podman') {
    throw new UsageError(`${o.context !== undefined ? '--context' : '-H/--host'} is docker's; podman reaches another machine with CONTAINER_HOST or a podman system connection.`);
  }
  return withVars(childEnv, daemonVars(o));
}

/** What --dry-run prints before the command for the same effect: `DOCKER_CONTEXT=d26 `. */
export function daemonPrefix(o: DaemonChoice): string {
  const set = Object.entries(daemonVars(o)).filter(([, v]) => v !== undefined);
  return set.map(([k, v]) => `${shellQuote([`${k}=${v}`])} `).join('');
}
