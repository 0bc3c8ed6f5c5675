/**
 * The comparison half of the preflight: secret mounts found in a Dockerfile
 * (src/dockerfile/model.ts) against the ids secbuild provides. Kept apart from
 * the model so that a build whose scan comes from the cache never loads the
 * parser code. Also the source of the `secret-id-missing` / `secret-id-unused`
 * findings.
 */
import { closest } from '../args/suggest.js';
import type { SecretMount, SshMount } from '../dockerfile/types.js';

export type { DockerfileInput as PreflightInput, SecretMount, SshMount } from '../dockerfile/types.js';

export interface Finding {
  level: 'error' | 'warning';
  message: string;
}

/** A secret-id finding with its rule id, for `secbuild check` (src/check/). */
export interface SecretIdFinding extends Finding {
  rule: 'secret-id-missing' | 'secret-id-unused' | 'ssh-id-missing' | 'ssh-id-unused';
  /** Line of the `--mount` flag; undefined for an unused secret (it has no line). */
  line?: number;
  /** One sentence: what is wrong. `message` is `path:line: ` + explanation + fix, as the build prints it. */
  explanation: string;
  fix: string;
}

/** The preflight's findings as the build prints them (`buildTarget` only names the target in warnings). */
export function checkSecretIds(mounts: SecretMount[], path: string, provided: ReadonlySet<string>, optional: ReadonlySet<string>, buildTarget?: string, inputs?: ReadonlySet<string>): Finding[] {
  return secretIdFindings(mounts, path, provided, optional, buildTarget, inputs).map(({ level, message }) => ({ level, message }));
}

/**
 * `provided`: the ids handed to docker; `inputs`: declared secrets that only
 * feed a template or netrc/npmrc file (secbuild.yml, no `mount: true`) — one
 * that a RUN mounts is handed to docker too (mountedInputs), and one that no
 * RUN mounts is not "unused".
 */
export function mountedInputs(mounts: readonly SecretMount[], inputs: ReadonlySet<string>): Set<string> {
  return new Set(mounts.filter((m) => inputs.has(m.id)).map((m) => m.id));
}

/** The mounts whose id is not provided, each line and id once. */
function unprovided<M extends { line: number; id: string }>(mounts: readonly M[], provided: ReadonlySet<string>): M[] {
  const seen = new Set<string>();
  return mounts.filter((m) => {
    const key = `${m.line}\0${m.id}`;
    if (provided.has(m.id) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function secretIdFindings(mounts: SecretMount[], path: string, providedIds: ReadonlySet<string>, optional: ReadonlySet<string>, buildTarget?: string, inputs: ReadonlySet<string> = new Set()): SecretIdFinding[] {
  const provided = new Set([...providedIds, ...mountedInputs(mounts, inputs)]);
  const mounted = new Set(mounts.map((m) => m.id));
  const unused = [...provided].filter((id) => !mounted.has(id));
  const findings: SecretIdFinding[] = [];
  // A mount that would fail, and a provided id that nothing mounts within two edits of it: a typo, named on both sides.
  const misses: string[] = [];
  for (const m of unprovided(mounts, provided)) {
    const near = closest(m.id, unused);
    const given = near === undefined ? '' : ` (secret "${near}" is: did you mean id=${m.id}?)`;
    const fix = near === undefined ? `Add --secret id=${m.id},from=REF (or declare it in secbuild.yml).` : `Rename id=${near} to id=${m.id} (its --secret flag or secbuild.yml entry).`;
    let explanation: string | undefined;
    if (m.required) {
      const why = optional.has(m.id) ? 'it is declared optional and absent, but the mount has required=true' : 'the mount has required=true';
      explanation = `RUN mounts secret "${m.id}" but no secret with that id is provided${given}; ${why}, so BuildKit would stop the build.`;
    } else if (!optional.has(m.id)) {
      explanation = `RUN mounts secret "${m.id}" but no secret with that id is provided${given}; BuildKit would mount nothing and go on.`;
    }
    if (!explanation) continue;
    misses.push(m.id);
    findings.push({ rule: 'secret-id-missing', level: 'error', line: m.line, explanation, fix, message: `${path}:${m.line}: ${explanation} ${fix}` });
  }
  const scope = buildTarget ? `the stages built for target "${buildTarget}"` : 'the stages this build reaches';
  for (const id of unused) {
    const near = closest(id, misses);
    const explanation = `secret "${id}" is provided but no RUN in ${scope} mounts it${near === undefined ? '' : ` (a RUN mounts "${near}": a typo?)`}`;
    const fix = `Mount it (RUN --mount=type=secret,id=${id} ...) or stop providing it (its --secret flag or secbuild.yml entry).`;
    findings.push({ rule: 'secret-id-unused', level: 'warning', explanation: `${explanation}.`, fix, message: explanation });
  }
  return findings;
}

/**
 * ssh mounts against the ssh ids the build forwards (secbuild's agents and
 * docker's own --ssh). BuildKit skips an ssh mount with no forwarded id
 * silently unless it has required=true, so a reached one without a provider
 * is an error either way; a forwarded id nothing mounts is a warning.
 */
export function sshIdFindings(mounts: readonly SshMount[], path: string, provided: ReadonlySet<string>, buildTarget?: string): SecretIdFinding[] {
  const findings: SecretIdFinding[] = [];
  for (const m of unprovided(mounts, provided)) {
    const flag = m.id === 'default' ? '--ssh-key env:DEPLOY_KEY' : `--ssh-key ${m.id}=env:DEPLOY_KEY`;
    const fix = `Add ${flag} (or an ssh: entry in secbuild.yml, or docker's --ssh ${m.id}=$SSH_AUTH_SOCK).`;
    const after = m.required ? 'the mount has required=true, so BuildKit would stop the build' : 'BuildKit would forward no agent and run the step without one';
    const explanation = `RUN mounts ssh id "${m.id}" but no key or agent is forwarded for it; ${after}.`;
    findings.push({ rule: 'ssh-id-missing', level: 'error', line: m.line, explanation, fix, message: `${path}:${m.line}: ${explanation} ${fix}` });
  }
  const mounted = new Set(mounts.map((m) => m.id));
  const scope = buildTarget ? `the stages built for target "${buildTarget}"` : 'the stages this build reaches';
  for (const id of provided) {
    if (mounted.has(id)) continue;
    const explanation = `ssh id "${id}" is forwarded but no RUN in ${scope} mounts it`;
    const fix = `Mount it (RUN --mount=type=ssh${id === 'default' ? '' : `,id=${id}`} ...) or stop forwarding it.`;
    findings.push({ rule: 'ssh-id-unused', level: 'warning', explanation: `${explanation}.`, fix, message: explanation });
  }
  return findings;
}
