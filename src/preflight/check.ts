/**
 * The comparison half of the preflight: secret mounts found in a Dockerfile
 * against the ids secbuild provides. Kept apart from the scanner (scan.ts) so
 * that a build whose scan comes from the cache never loads the parser code.
 * Also the source of the `secret-id-missing` / `secret-id-unused` findings.
 */

export interface SecretMount {
  id: string;
  /** 1-based line of the `--mount` flag. */
  line: number;
  /** Stage name, or its index as a string when unnamed. */
  stage: string;
  required: boolean;
  /** Where the secret appears: target path, `/run/secrets/<id>` by default, '' for env-only mounts. */
  target: string;
}

export interface PreflightInput {
  dockerfile: string;
  /** For messages. */
  path: string;
  target?: string;
  buildArgs?: Record<string, string>;
}

export interface Finding {
  level: 'error' | 'warning';
  message: string;
}

/** `buildTarget` (optional) only names the target in warnings. */
export function checkSecretIds(mounts: SecretMount[], path: string, provided: ReadonlySet<string>, optional: ReadonlySet<string>, buildTarget?: string): Finding[] {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const m of mounts) {
    const key = `${m.line}\0${m.id}`;
    if (provided.has(m.id) || seen.has(key)) continue;
    seen.add(key);
    const fix = `Add --secret id=${m.id},from=REF (or declare it in secbuild.yml).`;
    if (m.required) {
      const why = optional.has(m.id) ? 'it is declared optional and absent, but the mount has required=true' : 'the mount has required=true';
      findings.push({ level: 'error', message: `${path}:${m.line}: RUN mounts secret "${m.id}" but no secret with that id is provided; ${why}, so BuildKit would stop the build. ${fix}` });
    } else if (!optional.has(m.id)) {
      findings.push({ level: 'error', message: `${path}:${m.line}: RUN mounts secret "${m.id}" but no secret with that id is provided; BuildKit would mount nothing and go on. ${fix}` });
    }
  }
  const mounted = new Set(mounts.map((m) => m.id));
  const scope = buildTarget ? `the stages built for target "${buildTarget}"` : 'the stages this build reaches';
  for (const id of provided) {
    if (!mounted.has(id)) findings.push({ level: 'warning', message: `secret "${id}" is provided but no RUN in ${scope} mounts it` });
  }
  return findings;
}

