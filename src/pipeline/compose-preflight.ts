/**
 * Core's preflight, per service: the Dockerfile each service builds is scanned
 * (cached, as for `secbuild build`) for `RUN --mount=type=secret` in the stages
 * its `build.target` reaches, and the ids are compared with what the service's
 * `build.secrets` grants. A mounted id that is not granted is an error naming
 * the service, the Dockerfile line and the compose key to add: BuildKit would
 * mount nothing (or stop, for required=true). A grant no RUN mounts is a warning.
 * Then `secbuild check`'s error-level rules, as for a build (exit 4).
 * Returns each service's Dockerfile as read, with its mounts (a cache policy
 * derives from it: ./cache-args.ts).
 */
import { scanLabelled } from './preflight.js';
import type { Builder } from '../check/mount-env.js';
import { dockerfileTooLarge, isTooLarge, MAX_DOCKERFILE_BYTES, readBounded } from '../util/read.js';
import { LeakError, UsageError } from '../util/errors.js';
import { info, warn } from '../util/log.js';
import { effectiveArgs, type ServiceBuild } from '../engines/compose/plan.js';
import type { ReadDockerfile } from './cache-args.js';
import { dockerSshIds } from '../secrets/ssh.js';

export async function preflightServices(
  builds: readonly ServiceBuild[],
  cliArgs: ReadonlyArray<[string, string | null]>,
  env: NodeJS.ProcessEnv,
  /** compose's own --ssh values: forwarded to every service. */
  cliSsh: readonly string[] = [],
  /** Asks the daemon its version (./preflight.ts askDocker); without it env= mounts are left to the build. */
  ask?: () => Promise<Builder>,
): Promise<Map<string, ReadDockerfile>> {
  let builder: Promise<Builder> | undefined; // asked once for every service
  const askOnce = ask && (() => (builder ??= ask()));
  const read = new Map<string, ReadDockerfile>();
  const errors: string[] = [];
  const leaks: string[] = [];
  for (const b of builds) {
    const label = `service "${b.service}"`;
    const file = b.files.join(' + ');
    if (b.remote || !b.dockerfile) {
      info(`${label}: preflight skipped: the build context is remote (${b.context}), so secret ids were not checked against its Dockerfile.`);
      continue;
    }
    let text: string;
    try {
      text = (await readBounded(b.dockerfile, MAX_DOCKERFILE_BYTES)).toString('utf8');
    } catch (err) {
      const fix = `check services.${b.service}.build.context and .dockerfile in ${file}`;
      errors.push(`${label}: ${isTooLarge(err) ? dockerfileTooLarge(b.dockerfile, fix) : `cannot read the Dockerfile ${b.dockerfile} (${(err as NodeJS.ErrnoException).code}); ${fix}.`}`);
      continue;
    }
    const input = { dockerfile: text, path: b.dockerfile, target: b.target, buildArgs: Object.fromEntries(effectiveArgs(b, cliArgs, env)) };
    const scan = await scanLabelled(input, env, { label, targetKey: `services.${b.service}.build.target`, errors, ask: askOnce });
    if (!scan) continue;
    read.set(b.service, { path: b.dockerfile, text, mounts: scan.mounts });
    const granted = new Map(b.grants.map((g) => [g.id, g]));
    const seen = new Set<string>();
    for (const m of scan.mounts) {
      const key = `${m.line}\0${m.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (granted.has(m.id)) continue;
      const where = `${b.dockerfile}:${m.line}`;
      const stop = m.required ? 'the mount has required=true, so BuildKit would stop the build' : 'BuildKit would mount nothing and go on';
      errors.push(`${label}: ${where}: RUN mounts secret "${m.id}", which services.${b.service}.build.secrets in ${file} does not grant; ${stop}. Add "- ${m.id}" under services.${b.service}.build.secrets.`);
    }
    // ssh mounts: the ids the service's build.ssh (and compose's --ssh) forward; BuildKit is silent about the rest.
    const forwarded = new Set(dockerSshIds([...b.ssh, ...cliSsh]));
    for (const m of scan.sshMounts) {
      if (forwarded.has(m.id) || seen.has(`${m.line}\0ssh\0${m.id}`)) continue;
      seen.add(`${m.line}\0ssh\0${m.id}`);
      errors.push(`${label}: ${b.dockerfile}:${m.line}: RUN mounts ssh id "${m.id}", which services.${b.service}.build.ssh in ${file} does not forward. Add "- ${m.id}" under services.${b.service}.build.ssh and give its key with --ssh-key ${m.id === 'default' ? '' : `${m.id}=`}REF (or an ssh: entry in secbuild.yml).`);
    }
    const mounted = new Set(scan.mounts.map((m) => m.id));
    const scope = b.target ? `the stages built for target "${b.target}"` : 'the stages this build reaches';
    for (const g of b.grants) if (!mounted.has(g.id)) warn(`${label}: secret "${g.id}" is granted (${g.at}) but no RUN in ${scope} mounts it.`);
    // secbuild check's error-level rules, as `secbuild build` runs them (credential files copied into the image).
    const { preflightLeaks } = await import('../check/index.js');
    for (const l of await preflightLeaks(input, b.context)) leaks.push(`${label}: ${l}`);
  }
  if (errors.length > 0) throw new UsageError(errors.join('\n'));
  if (leaks.length > 0) throw new LeakError(leaks.join('\n'));
  return read;
}
