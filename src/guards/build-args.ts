/**
 * Build-arg guard: `--build-arg NAME=VALUE` is recorded in the image history,
 * the build cache and (with provenance mode=max) the attestation. A build-arg
 * that carries a resolved secret is refused (exit 4) unless the user lets that
 * one name through with `--allow-secret-build-arg NAME`; a build-arg whose
 * name looks like a credential gets a warning even when its value is unknown.
 * The same guard refuses, with no opt-in, what a container's config records
 * (`docker inspect`): `secbuild run`'s --env/--env-file/--label/--label-file
 * and a compose service's `environment:`/`labels:` (`compose up`).
 * Pure functions: messages name args and secret ids, never values.
 */
import { LeakError } from '../util/errors.js';
import { looksLikeSecretName } from './wordlist.js';
import { carries } from '../secrets/forms.js';
import { splitCsv } from '../secrets/csv.js';
import type { Secret } from '../secrets/secret.js';

export interface BuildArg {
  /**
   * `--build-arg` (the default), `--label` or `--annotation`: all are recorded with the image;
   * for a container (`container` set): docker run's flag (`--env`, `--env-file FILE:`)
   * or the compose key path (`services.S.environment`).
   */
  flag?: string;
  /** Recorded in a container's config (`docker inspect`), by `secbuild run` or `compose up`: refused with no opt-in. */
  container?: 'run' | 'compose';
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

/** The build flags besides --build-arg whose K=V the image keeps (parseLabelFlags reads them). */
const RECORDED_FLAGS = ['--label', '--annotation'] as const;

/** Where the image keeps what the guard refuses, by BuildArg.flag (the refusal says so); a build-arg's otherwise. */
const IMAGE_RECORDED: Readonly<Record<string, string>> = {
  '--label': 'labels are recorded in the image config',
  '--annotation': 'annotations are recorded in the image manifest',
  // A bake target's inline Dockerfile, after bake substituted its variables: its RUN lines are the image's history.
  'dockerfile-inline': "an inline Dockerfile's text is recorded in the image history",
};

/**
 * `--label K=V` and `--annotation [TYPE:]K=V` (either also as `--flag=…`)
 * among docker's arguments: both are kept with the image. An annotation's
 * name keeps its `TYPE:` prefix.
 */
export function parseLabelFlags(dockerArgs: readonly string[]): BuildArg[] {
  const out: BuildArg[] = [];
  for (let i = 0; i < dockerArgs.length; i++) {
    const a = dockerArgs[i]!;
    const flag = RECORDED_FLAGS.find((f) => a === f || a.startsWith(`${f}=`));
    if (!flag) continue;
    const value = a === flag ? dockerArgs[++i] : a.slice(flag.length + 1);
    if (value === undefined) continue;
    const eq = value.indexOf('=');
    out.push({ flag, name: eq < 0 ? value : value.slice(0, eq), value: eq < 0 ? '' : value.slice(eq + 1), fromEnv: false });
  }
  return out;
}

/**
 * docker run's recorded flags as the guard reads them: `--env K=V` (a bare
 * `K`: docker takes the value from its environment), `--label K=V`, and each
 * `K=V` line of an --env-file/--label-file, read as docker reads them
 * (docker/cli opts/file.go: `#` comments and blank lines skipped). A file
 * `read` cannot read is skipped: docker reports it.
 */
export function parseContainerConfigFlags(recorded: ReadonlyArray<{ flag: string; value: string }>, env: NodeJS.ProcessEnv, read: (path: string) => string | undefined): BuildArg[] {
  const out: BuildArg[] = [];
  const add = (flag: string, kv: string, fromEnv: boolean) => {
    const eq = kv.indexOf('=');
    if (eq >= 0) out.push({ flag, container: 'run', name: kv.slice(0, eq), value: kv.slice(eq + 1), fromEnv: false });
    else out.push({ flag, container: 'run', name: kv, value: fromEnv ? env[kv] : '', fromEnv });
  };
  for (const { flag, value } of recorded) {
    if (flag === '--env' || flag === '--label' || flag === '--annotation') {
      add(flag, value, flag === '--env');
      continue;
    }
    for (const line of (read(value) ?? '').split(/\r?\n/)) {
      const l = line.trimStart();
      if (l && !l.startsWith('#')) add(`${flag} ${value}:`, l, flag === '--env-file');
    }
  }
  return out;
}

/** The guard's refusal of a value a container's config would record. */
function containerRefusal(a: BuildArg, carried: Secret): string {
  const what = a.container === 'compose' ? `${a.flag}.${a.name}` : `${a.flag} ${a.name}`;
  const fix =
    a.container === 'compose'
      ? `list it in the service's secrets: (services.S.secrets, provided by secbuild: --secret id=${carried.id},from=${carried.source}) and read it at /run/secrets/${carried.id}`
      : `--secret id=${carried.id},from=${carried.source}, read in the container at /run/secrets/${carried.id}`;
  return `${what} carries secret "${carried.id}" (${carried.source}); it would be recorded in the container's config (docker inspect). Give it to the container as a file instead: ${fix}.`;
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
 * for build-args recorded by provenance mode=max. `scope` (a bake target:
 * `target "a"`) starts every line, refusals and warnings alike.
 */
export function guardBuildArgs(args: readonly BuildArg[], secrets: readonly Secret[], allowed: ReadonlySet<string>, provenanceMax: boolean, scope?: string): GuardResult {
  const { warnings, allowedEnvNames, refused } = guardAll(args, secrets, allowed, provenanceMax);
  const within = (lines: readonly string[]) => (scope ? lines.map((l) => `${scope}: ${l}`) : [...lines]);
  if (refused.length > 0) throw new LeakError(within(refused).join('\n'));
  return { warnings: within(warnings), allowedEnvNames };
}

function guardAll(args: readonly BuildArg[], secrets: readonly Secret[], allowed: ReadonlySet<string>, provenanceMax: boolean): GuardResult & { refused: string[] } {
  const warnings: string[] = [];
  const allowedEnvNames: string[] = [];
  const refused: string[] = [];
  for (const a of args) {
    const flag = a.flag ?? '--build-arg';
    const carried = a.value === undefined ? undefined : carriedSecret(a.value, secrets);
    if (carried && a.container) {
      refused.push(containerRefusal(a, carried));
      continue;
    }
    if (carried) {
      const recorded = IMAGE_RECORDED[flag] ?? 'build-args are recorded in the image history and the build cache';
      if (allowed.has(a.name) && provenanceMax && flag === '--build-arg') {
        // Decided (issue 23): refuse. The attestation goes wherever the image goes (pushed beside it, in --metadata-file)
        // and --verify does not search a registry's attestations: the opt-in names the image history, not that.
        refused.push(
          `--build-arg ${a.name} carries secret "${carried.id}", and provenance mode=max would copy its value into the attestation, which is pushed with the image and written to --metadata-file; ` +
            '--allow-secret-build-arg does not extend to that. Use --provenance mode=min (or false), or mount the secret instead.',
        );
      } else if (allowed.has(a.name)) {
        warnings.push(`${shownArg(flag, a.name)} carries secret "${carried.id}" and is let through by --allow-secret-build-arg: its value will be in the image (${recorded}).`);
        if (a.fromEnv) allowedEnvNames.push(a.name);
      } else {
        refused.push(
          `${shownArg(flag, a.name)} carries secret "${carried.id}" (${carried.source}); ${recorded}. ` +
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
  return { warnings, allowedEnvNames, refused };
}

/** How a refusal names what carries the value: `--build-arg NAME`, or `dockerfile-inline` alone. */
function shownArg(flag: string, name: string): string {
  return flag === name ? flag : `${flag} ${name}`;
}

/** `--provenance mode=max` or `--attest type=provenance,mode=max` among docker's args. */
export function wantsProvenanceMax(dockerArgs: readonly string[]): boolean {
  for (let i = 0; i < dockerArgs.length; i++) {
    const a = dockerArgs[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag !== '--provenance' && flag !== '--attest') continue;
    const value = inline ?? dockerArgs[i + 1] ?? '';
    // buildx reads the value as one CSV record: `"mode=max"` is the field mode=max (./secrets/csv.ts).
    const fields = csvOrPlain(value).map((f) => f.trim().toLowerCase());
    if (flag === '--attest' && !fields.includes('type=provenance')) continue;
    if (fields.includes('mode=max')) return true;
  }
  return false;
}

/** A flag value's CSV fields; split at every comma when it is not valid CSV (buildx refuses it anyway). */
function csvOrPlain(value: string): string[] {
  try {
    return splitCsv(value);
  } catch {
    return value.split(',');
  }
}
