/**
 * Build-arg guard: `--build-arg NAME=VALUE` is recorded in the image history,
 * the build cache and (with provenance mode=max) the attestation. A build-arg
 * that carries a resolved secret is refused (exit 4) unless the user lets that
 * one name through with `--allow-secret-build-arg NAME`; a build-arg whose
 * name looks like a credential gets a warning even when its value is unknown.
 * Pure functions: messages name args and secret ids, never values.
 */
import { LeakError } from '../util/errors.js';
import { looksLikeSecretName } from './wordlist.js';
import { carries } from '../secrets/forms.js';
import type { Secret } from '../secrets/secret.js';

export interface BuildArg {
  /** `--build-arg` (the default) or `--label`: both are recorded in the image. */
  flag?: '--build-arg' | '--label';
  name: string;
  /** The value docker would record: inline, or from secbuild's environment for a bare NAME. */
  value: string | undefined;
  /** `NAME` without `=`: docker takes the value from its environment. */
  fromEnv: boolean;
}

export function parseBuildArgFlags(values: readonly string[], env: NodeJS.ProcessEnv): BuildArg[] {
  return values.map((a) => {
    const eq = a.indexOf('=');
    return eq === -1 ? { name: a, value: env[a], fromEnv: true } : { name: a.slice(0, eq), value: a.slice(eq + 1), fromEnv: false };
  });
}

/** `--label K=V` / `--label=K=V` among docker's arguments (a label is recorded in the image config). */
export function parseLabelFlags(dockerArgs: readonly string[]): BuildArg[] {
  const out: BuildArg[] = [];
  for (let i = 0; i < dockerArgs.length; i++) {
    const a = dockerArgs[i]!;
    const value = a === '--label' ? dockerArgs[++i] : a.startsWith('--label=') ? a.slice('--label='.length) : undefined;
    if (value === undefined) continue;
    const eq = value.indexOf('=');
    out.push({ flag: '--label', name: eq < 0 ? value : value.slice(0, eq), value: eq < 0 ? '' : value.slice(eq + 1), fromEnv: false });
  }
  return out;
}

/**
 * Which secret a build-arg value carries: equal to it or to one of its forms
 * (any length), or containing a form of 4 bytes or more — the forms masking
 * and verify know (src/secrets/forms.ts), so the three never disagree.
 */
export function carriedSecret(value: string, secrets: readonly Secret[]): Secret | undefined {
  const v = Buffer.from(value, 'utf8');
  return secrets.find((s) => carries(v, s.value));
}

export interface GuardResult {
  warnings: string[];
  /** Names let through with --allow-secret-build-arg that read their value from the environment. */
  allowedEnvNames: string[];
}

/**
 * Refuses build-args that carry a secret; warns for credential-like names and
 * for build-args recorded by provenance mode=max.
 */
export function guardBuildArgs(args: readonly BuildArg[], secrets: readonly Secret[], allowed: ReadonlySet<string>, provenanceMax: boolean): GuardResult {
  const warnings: string[] = [];
  const allowedEnvNames: string[] = [];
  const refused: string[] = [];
  for (const a of args) {
    const flag = a.flag ?? '--build-arg';
    const carried = a.value === undefined ? undefined : carriedSecret(a.value, secrets);
    if (carried) {
      const recorded = flag === '--label' ? 'labels are recorded in the image config' : 'build-args are recorded in the image history and the build cache';
      if (allowed.has(a.name) && provenanceMax && flag === '--build-arg') {
        // Decided (issue 23): refuse. The attestation goes wherever the image goes (pushed beside it, in --metadata-file)
        // and --verify does not search a registry's attestations: the opt-in names the image history, not that.
        refused.push(
          `--build-arg ${a.name} carries secret "${carried.id}", and provenance mode=max would copy its value into the attestation, which is pushed with the image and written to --metadata-file; ` +
            '--allow-secret-build-arg does not extend to that. Use --provenance mode=min (or false), or mount the secret instead.',
        );
      } else if (allowed.has(a.name)) {
        warnings.push(`${flag} ${a.name} carries secret "${carried.id}" and is let through by --allow-secret-build-arg: its value will be in the image (${recorded}).`);
        if (a.fromEnv) allowedEnvNames.push(a.name);
      } else {
        refused.push(
          `${flag} ${a.name} carries secret "${carried.id}" (${carried.source}); ${recorded}. ` +
            `Mount it instead: --secret id=${carried.id},from=${carried.source} and in the Dockerfile RUN --mount=type=secret,id=${carried.id} … $(cat /run/secrets/${carried.id}); ` +
            `to pass it anyway, add --allow-secret-build-arg ${a.name}.`,
        );
      }
      continue;
    }
    if (flag === '--build-arg' && looksLikeSecretName(a.name)) {
      warnings.push(`--build-arg ${a.name} looks like a credential; build-args are recorded in the image history. Pass secrets with --secret and RUN --mount=type=secret.`);
    }
  }
  if (provenanceMax) {
    for (const a of args) {
      if ((a.flag ?? '--build-arg') === '--build-arg' && looksLikeSecretName(a.name)) warnings.push(`provenance mode=max records build-arg values in the attestation, including --build-arg ${a.name}.`);
    }
  }
  if (refused.length > 0) throw new LeakError(refused.join('\n'));
  return { warnings, allowedEnvNames };
}

/** `--provenance mode=max` or `--attest type=provenance,mode=max` among docker's args. */
export function wantsProvenanceMax(dockerArgs: readonly string[]): boolean {
  for (let i = 0; i < dockerArgs.length; i++) {
    const a = dockerArgs[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag !== '--provenance' && flag !== '--attest') continue;
    const value = inline ?? dockerArgs[i + 1] ?? '';
    const fields = value.split(',').map((f) => f.trim().toLowerCase());
    if (flag === '--attest' && !fields.includes('type=provenance')) continue;
    if (fields.includes('mode=max')) return true;
  }
  return false;
}
