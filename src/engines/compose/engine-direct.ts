/**
 * The direct engine: no Compose v2 here, so each service is one BuildKit
 * `docker build` through core's session and masked runner (the same secret
 * files, signal forwarding, watchdog, cleanup and output masking as
 * `secbuild build`).
 *
 * Order: depends_on, else file order; at most `parallel` builds at once
 * (default 1). When a build fails, no new build starts; builds already running
 * finish; services that were not built are listed; secbuild exits with the
 * failed build's code. Images built before the failure stay tagged.
 */
import { constants as osConstants } from 'node:os';
import { buildEnv, type Engine } from '../docker/detect.js';
import { DockerExit } from '../../util/errors.js';
import { info } from '../../util/log.js';
import type { Pattern } from '../../secrets/forms.js';
import type { SecretFile } from '../../run/rundir.js';
import { runMasked } from '../../pipeline/masked-run.js';
import type { Report } from '../../pipeline/report.js';
import type { Session } from '../../run/session.js';
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
  engine: Engine;
  builds: readonly ServiceBuild[];
  argvFor: (b: ServiceBuild, files: SecretFile[]) => string[];
  filesFor: (b: ServiceBuild, files: readonly SecretFile[]) => SecretFile[];
  files: readonly SecretFile[];
  session: Session;
  childEnv: NodeJS.ProcessEnv;
  parallel: number;
  /** Mask these in docker's output (core's redactor); undefined: output inherited. */
  patterns?: readonly Pattern[];
  /** --report: each docker run's argv and exit code, masked counts. */
  report?: Report;
}): Promise<number> {
  const env = buildEnv(o.childEnv);
  const { done, notBuilt } = await schedule(o.builds, o.parallel, async (b) => {
    info(`building service "${b.service}" (${b.image})`);
    const argv = o.argvFor(b, o.filesFor(b, o.files));
    const run = { service: b.service, argv: [o.engine.docker, ...argv], exitCode: undefined as number | undefined };
    o.report?.runs?.push(run);
    if (o.report) o.report.dockerArgv = run.argv;
    const r = await runMasked(o.session, o.engine.docker, argv, env, o.patterns, o.report);
    run.exitCode = r.signal ? 128 + (osConstants.signals[r.signal] ?? 0) : (r.code ?? 1);
    return run.exitCode;
  });
  const failed = done.filter((d) => d.code !== 0);
  if (failed.length === 0) return 0;
  const built = done.filter((d) => d.code === 0).map((d) => d.service);
  info(
    `service ${failed.map((f) => `"${f.service}" failed (docker exit ${f.code})`).join(', ')}; ` +
      `built: ${built.length ? built.join(', ') : 'none'}; not built: ${notBuilt.length ? notBuilt.join(', ') : 'none'}.`,
  );
  throw new DockerExit(failed[0]!.code);
}
