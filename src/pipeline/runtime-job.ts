/**
 * What every run-time job (`secbuild run`, `compose up`, `compose down`)
 * shares: no Dockerfile to preflight, no build-args (`run` and `compose up`
 * set `buildArgs` to what the container's config records), no BuildKit
 * environment (docker runs as the user would run it), and the engine in the
 * report. The job adds its dry run and its run.
 */
import type { Engine } from '../engines/engine.js';
import type { ChildEnv } from '../run/env.js';
import type { SecretSpec } from '../secrets/spec.js';
import type { Job } from './run.js';

export function runtimeJob(o: { options: Job['options']; childEnv: ChildEnv; specs: readonly SecretSpec[]; engine: Engine; compose?: boolean }): Omit<Job, 'dryRun' | 'run'> {
  return {
    options: o.options,
    childEnv: o.childEnv,
    specs: o.specs,
    engine: o.engine,
    preflight: async () => ({ checked: false, findings: [] }),
    async detect(report) {
      report.engine = { docker: o.engine.bin, ...(o.compose ? { compose: 'compose' as const } : {}) };
    },
    passThrough: () => true,
    buildArgs: () => [],
    provenanceMax: false,
    plainProgress: () => {},
  };
}
