/**
 * The direct engine: no Compose v2 here, so each service is one BuildKit
 * `docker build` through the pipeline's docker runner (the same secret
 * files, signal forwarding, watchdog, cleanup and output masking as
 * `secbuild build`).
 *
 * Order: depends_on, else file order; at most `parallel` builds at once
 * (default 1). When a build fails, no new build starts; builds already running
 * finish; services that were not built are listed; secbuild exits with the
 * failed build's code. Images built before the failure stay tagged.
 */
import { DockerExit } from '../../util/errors.js';
import { info } from '../../util/log.js';
import type { ServiceBuild } from './plan.js';

export type Outcome = { service: string; code: number };

/**
 * Runs `run` for each build, respecting depends_on among them and the
 * parallelism limit. Stops starting new builds after the first failure or
 * throw; always waits for the builds already running. Rethrows the first throw.
 */
export async function schedule(builds: readonly ServiceBuild[], parallel: number, run: (b: ServiceBuild) => Promise<number>): Promise<{ done: Outcome[]; notBuilt: string[] }> {
  const limit = parallel < 0 ? Infinity : Math.max(1, parallel);
  const names = new Set(builds.map((b) => b.service));
  const done: Outcome[] = [];
  const running = new Map<string, Promise<void>>();
  const ok = new Set<string>();
  let stop = false;
  let thrown: { err: unknown } | undefined;
  const pending = [...builds];
  for (;;) {
    while (!stop && running.size < limit) {
      const i = pending.findIndex((b) => b.dependsOn.every((d) => ok.has(d) || !names.has(d) || d === b.service));
      if (i < 0) break;
      const [b] = pending.splice(i, 1);
      const p = run(b!).then(
        (code) => {
          done.push({ service: b!.service, code });
          if (code === 0) ok.add(b!.service);
          else stop = true;
        },
        (err: unknown) => {
          thrown ??= { err };
          stop = true;
        },
      ).finally(() => running.delete(b!.service));
      running.set(b!.service, p);
    }
    if (running.size === 0) break;
    await Promise.race(running.values());
  }
  if (thrown) throw thrown.err;
  return { done, notBuilt: pending.map((b) => b.service) };
}

export async function runDirect(o: {
  builds: readonly ServiceBuild[];
  argvFor: (b: ServiceBuild) => string[];
  parallel: number;
  /** Runs docker for a service; resolves to its exit code. */
  docker: (argv: readonly string[], service: string) => Promise<number>;
}): Promise<void> {
  const { done, notBuilt } = await schedule(o.builds, o.parallel, async (b) => {
    info(`building service "${b.service}" (${b.image})`);
    return o.docker(o.argvFor(b), b.service);
  });
  const failed = done.filter((d) => d.code !== 0);
  if (failed.length === 0) return;
  const built = done.filter((d) => d.code === 0).map((d) => d.service);
  info(
    `service ${failed.map((f) => `"${f.service}" failed (docker exit ${f.code})`).join(', ')}; ` +
      `built: ${built.length ? built.join(', ') : 'none'}; not built: ${notBuilt.length ? notBuilt.join(', ') : 'none'}.`,
  );
  throw new DockerExit(failed[0]!.code);
}
