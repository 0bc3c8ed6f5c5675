/**
 * The preflight of `secbuild bake`, per target: the Dockerfile each target
 * builds (its context, `dockerfile` or `dockerfile-inline`, `target`, `args`,
 * as `bake --print` resolved them) is read with the Dockerfile model (cached,
 * as for a build). A `RUN --mount=type=secret,id=X` reached in the target with
 * no X granted — neither in the target's bake `secret` list nor provided by
 * secbuild — stops the bake before it starts (exit 2), naming the target, the
 * file and the line. Then `secbuild check`'s error-level rules (exit 4).
 * Returns the ids each target's Dockerfile mounts (the targets secbuild serves).
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { BakeTarget } from '../engines/docker/bake.js';
import { secretEntryId } from '../engines/docker/bake.js';
import { isRemoteContext } from '../engines/docker/context.js';
import { dockerSshIds } from '../secrets/ssh.js';
import { LeakError, UsageError } from '../util/errors.js';
import { info, warn } from '../util/log.js';
import { dockerfileTooLarge, isTooLarge, MAX_DOCKERFILE_BYTES, readBounded } from '../util/read.js';
import type { Builder } from '../check/mount-env.js';
import type { ReadDockerfile } from './cache-args.js';
import { COPY_OR_ADD, scanLabelled, type Scan } from './preflight.js';

export interface TargetScan {
  /** The Dockerfile as shown (path, or `TARGET (dockerfile-inline)`); absent when not read. */
  dockerfile?: string;
  /** Secret ids the target's reached RUNs mount. */
  mounted: Set<string>;
  /** The Dockerfile as read (a file, not dockerfile-inline), for a cache policy's derived Dockerfile (./cache-args.ts). */
  read?: ReadDockerfile;
  /** ssh ids the target's reached RUNs mount. */
  sshMounted: Set<string>;
}

/** The Dockerfile path of a local target, or why it cannot be read. */
function where(t: BakeTarget, cwd: string): { path?: string; skip?: string } {
  if (t.dockerfileInline !== undefined) return { path: `${t.name} (dockerfile-inline)` };
  if (isRemoteContext(t.context) || t.context.startsWith('target:') || t.context === '-') return { skip: `the build context is not a local directory (${t.context})` };
  const file = t.dockerfile ?? 'Dockerfile';
  return { path: isAbsolute(file) ? file : resolvePath(cwd, t.context, file) };
}

export async function preflightTargets(
  targets: readonly BakeTarget[],
  /** The ids secbuild provides (to be mounted). */
  provided: ReadonlySet<string>,
  /** The ssh ids secbuild forwards (--ssh-key, secbuild.yml ssh:). */
  providedSsh: ReadonlySet<string>,
  env: NodeJS.ProcessEnv,
  cwd: string,
  ask?: () => Promise<Builder>,
): Promise<Map<string, TargetScan>> {
  let builder: Promise<Builder> | undefined;
  const askOnce = ask && (() => (builder ??= ask()));
  const out = new Map<string, TargetScan>();
  const memo = new Map<string, Scan>();
  const errors: string[] = [];
  const leaks: string[] = [];
  for (const t of targets) {
    const label = `target "${t.name}"`;
    const w = where(t, cwd);
    if (!w.path) {
      info(`${label}: preflight skipped: ${w.skip}, so secret ids were not checked against its Dockerfile.`);
      out.set(t.name, { mounted: new Set(), sshMounted: new Set() });
      continue;
    }
    let text: string;
    if (t.dockerfileInline !== undefined) text = t.dockerfileInline;
    else {
      try {
        text = (await readBounded(w.path, MAX_DOCKERFILE_BYTES)).toString('utf8');
      } catch (err) {
        const fix = `check target.${t.name}.context and .dockerfile of the bake file`;
        errors.push(`${label}: ${isTooLarge(err) ? dockerfileTooLarge(w.path, fix) : `cannot read the Dockerfile ${w.path} (${(err as NodeJS.ErrnoException).code}); ${fix}.`}`);
        continue;
      }
    }
    const input = { dockerfile: text, path: w.path, target: t.target, buildArgs: t.args };
    const scan = await scanLabelled(input, env, { label, targetKey: `target.${t.name}.target`, errors, ask: askOnce, memo, inline: t.dockerfileInline !== undefined });
    if (!scan) continue;
    const listed = new Set(t.secret.map(secretEntryId).filter((id): id is string => id !== undefined));
    const seen = new Set<string>();
    for (const m of scan.mounts) {
      const key = `${m.line}\0${m.id}`;
      if (seen.has(key) || listed.has(m.id) || provided.has(m.id)) continue;
      seen.add(key);
      const stop = m.required ? 'the mount has required=true, so BuildKit would stop the build' : 'BuildKit would mount nothing and go on';
      errors.push(`${label}: ${w.path}:${m.line}: RUN mounts secret "${m.id}", which neither secbuild provides nor target.${t.name}.secret lists; ${stop}. Give it with --secret id=${m.id},from=REF (or in secbuild.yml).`);
    }
    const forwarded = new Set(dockerSshIds(t.ssh));
    for (const m of scan.sshMounts) {
      if (forwarded.has(m.id) || providedSsh.has(m.id) || seen.has(`${m.line}\0ssh\0${m.id}`)) continue;
      seen.add(`${m.line}\0ssh\0${m.id}`);
      errors.push(`${label}: ${w.path}:${m.line}: RUN mounts ssh id "${m.id}", which neither secbuild forwards nor target.${t.name}.ssh lists; give a key with --ssh-key ${m.id}=PATH, or add "${m.id}" to its ssh list.`);
    }
    const mounted = new Set(scan.mounts.map((m) => m.id));
    for (const id of listed) if (provided.has(id) && !mounted.has(id)) warn(`${label}: secret "${id}" is listed in its secret entries but no RUN in the stages it builds mounts it.`);
    const read = t.dockerfileInline === undefined ? { path: w.path, text, mounts: scan.mounts } : undefined;
    out.set(t.name, { dockerfile: w.path, mounted, ...(read ? { read } : {}), sshMounted: new Set(scan.sshMounts.map((m) => m.id)) });
    if (!COPY_OR_ADD.test(text)) continue; // nothing to copy a credential with: check's rules are not loaded
    const { preflightLeaks } = await import('../check/index.js');
    for (const l of await preflightLeaks(input, resolvePath(cwd, t.context))) leaks.push(`${label}: ${l}`);
  }
  if (errors.length > 0) throw new UsageError(errors.join('\n'));
  if (leaks.length > 0) throw new LeakError(leaks.join('\n'));
  return out;
}
