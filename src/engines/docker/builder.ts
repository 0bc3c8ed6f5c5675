/**
 * Which buildx builder a build uses and where its results land, for --verify:
 * `docker buildx inspect [NAME]` (NAME from `--builder`, else BUILDX_BUILDER,
 * else the current builder) prints its driver and its nodes' endpoints.
 *
 * - driver `docker`: the builder is a docker context's daemon, and the image
 *   lands in that daemon's store. Its endpoint is the context's name
 *   (`default` follows DOCKER_HOST); buildx refuses `--builder` for a context
 *   that is not the current one, so in practice it is the daemon the client
 *   addresses already.
 * - any other driver (docker-container, remote, kubernetes): results stay in
 *   the builder's cache unless loaded (./outputs.ts).
 *
 * Example output (buildx 0.13.1):
 *   Name:          default
 *   Driver:        docker
 *   …
 *   Nodes:
 *   Name:      default
 *   Endpoint:  default
 */
import { UsageError } from '../../util/errors.js';
import { withVars, type ChildEnv } from '../../run/env.js';
import { capture } from '../../run/exec.js';
import { lastFlagValue } from './argv.js';
import { daemonVars } from './daemon.js';
import type { BuilderFacts } from './outputs.js';

export interface Builder extends BuilderFacts {
  name: string;
  driver: string;
  /** The first node's endpoint: a context name or a daemon URL. */
  endpoint?: string;
}

/** `--builder NAME` / `--builder=NAME` among docker's args (the last one wins, as in docker). */
export const builderFlag = (dockerArgs: readonly string[]): string | undefined => lastFlagValue(dockerArgs, '--builder');

/** The builder `docker buildx inspect` describes (pure). */
export function parseInspect(text: string): Builder | undefined {
  const head = text.split(/^Nodes:\s*$/m);
  const top = head[0] ?? '';
  const name = /^Name:\s*(\S+)/m.exec(top)?.[1];
  const driver = /^Driver:\s*(\S+)/m.exec(top)?.[1];
  if (!name || !driver) return undefined;
  const endpoint = /^Endpoint:\s*(\S+)/m.exec(head[1] ?? '')?.[1];
  return { name, driver, ...(endpoint ? { endpoint } : {}) };
}

/** Asks buildx which builder a build with these args uses. Throws a UsageError naming the builder when it cannot. */
export async function inspectBuilder(docker: string, dockerArgs: readonly string[], env: ChildEnv): Promise<Builder> {
  const name = builderFlag(dockerArgs);
  const r = await capture(docker, ['buildx', 'inspect', ...(name ? [name] : [])], { env, timeoutMs: 30_000 });
  const b = r.exitCode === 0 ? parseInspect(r.stdout.toString('utf8')) : undefined;
  if (b) return b;
  const said = r.stderr.trim().split('\n').filter(Boolean).at(-1) ?? `exit ${r.exitCode}`;
  throw new UsageError(`--verify: \`docker buildx inspect${name ? ` ${name}` : ''}\` did not say where the build's result goes (${said}), so it cannot be verified; check --builder.`);
}

/**
 * The environment that reaches the daemon holding a docker-driver builder's
 * images: its endpoint as DOCKER_CONTEXT (a context name; `default` and an
 * empty endpoint: undefined, `env` reaches it already) or DOCKER_HOST (a URL).
 */
export function builderDaemonEnv(b: Builder, env: ChildEnv): ChildEnv | undefined {
  const e = b.driver === 'docker' ? b.endpoint : undefined;
  if (!e || e === 'default' || e === env.DOCKER_CONTEXT) return undefined;
  return withVars(env, daemonVars(/^[a-z][a-z0-9+.-]*:\/\//i.test(e) ? { host: e } : { context: e }));
}
