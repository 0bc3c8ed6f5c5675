/**
 * What `secbuild exec` hands its command besides the files, as pure
 * functions of the specs, the run directory and the values asked for by
 * `--env`:
 *
 * - SECBUILD_SECRETS: the run directory; each secret is `$SECBUILD_SECRETS/ID`
 *   (a build's `RUN --mount=type=secret,id=ID` sees /run/secrets/ID);
 * - NETRC: the rendered .netrc (read by pip/requests, Python's netrc, Go,
 *   libcurl 8.16+). git does not read $NETRC (only $HOME/.netrc, through
 *   libcurl), so git gets a credential helper through GIT_CONFIG_COUNT/
 *   GIT_CONFIG_KEY_n/GIT_CONFIG_VALUE_n (git-config(1) "ENVIRONMENT"),
 *   appended after the user's own: a few lines of sh that read the same file
 *   and answer `get` for its machines. The variables hold the helper and the
 *   file's path, never a value: git reads the password from the file;
 * - NPM_CONFIG_USERCONFIG: the rendered .npmrc (every case variant of
 *   npm_config_userconfig is removed first: npm reads them all, and `npm run`
 *   sets the lower-case one for its scripts);
 * - `env:` of a template secret in secbuild.yml: that variable names its file;
 * - `--env VAR=REF`: the value itself, as VAR (the only way a value reaches an
 *   environment); refused when it holds a NUL byte or is not UTF-8;
 * - SSH_AUTH_SOCK: with `--ssh-key` / `ssh:`, the socket of secbuild's agent
 *   (ssh, git and scp use it): the only agent, or with several ssh ids the
 *   agent of id `default`; with several and no `default` it is not set (the
 *   user's own is removed either way, so the command never talks to it by mistake).
 */
import { join } from 'node:path';
import { describeRef } from '../../providers/index.js';
import type { ChildEnv } from '../run/env.js';
import type { SecretFile } from '../run/rundir.js';
import type { Secret } from '../secrets/secret.js';
import type { SecretSpec } from '../secrets/spec.js';
import { UsageError } from '../util/errors.js';

/** The spec id an `--env VAR=REF` resolves under: `$VAR` (no --secret id can start with `$`). */
export const envSecretId = (name: string): string => `$${name}`;

/** A variable exec sets, and what it names (for the dry run and the collision check). */
export interface Delivered {
  name: string;
  /** The secret id whose file it names, or whose value it is (`--env`). */
  id?: string;
  from: string;
  /** `--env`: the reference its value comes from. */
  source?: string;
}

/**
 * Every variable exec will set, before anything resolves: two that would set
 * the same variable, or a second .netrc/.npmrc (one variable names one
 * file), are usage errors naming both.
 */
export function plannedVars(specs: readonly SecretSpec[], envs: ReadonlyArray<{ name: string }>): Delivered[] {
  const out: Delivered[] = [{ name: 'SECBUILD_SECRETS', from: 'secbuild exec (the run directory)' }];
  for (const kind of ['netrc', 'npmrc'] as const) {
    const files = specs.filter((s) => s.kind === kind);
    if (files.length > 1) {
      throw new UsageError(`secbuild exec hands the command one .${kind} file, and ${files.map((s) => `"${s.id}" (${s.origin})`).join(' and ')} are two; give their entries one id.`);
    }
    const [file] = files;
    if (!file) continue;
    if (kind === 'npmrc') out.push({ name: 'NPM_CONFIG_USERCONFIG', id: file.id, from: file.origin });
    else out.push({ name: 'NETRC', id: file.id, from: file.origin }, { name: 'GIT_CONFIG_COUNT', id: file.id, from: `${file.origin} (git's credential helper)` });
  }
  for (const s of specs) if (s.kind === 'template' && s.env) out.push({ name: s.env, id: s.id, from: `${s.origin}.env` });
  for (const { name } of envs) {
    const spec = specs.find((s) => s.id === envSecretId(name));
    out.push({ name, id: envSecretId(name), from: `--env ${name}`, ...(spec?.kind === 'ref' ? { source: describeRef(spec.ref) } : {}) });
  }
  const seen = new Map<string, Delivered>();
  for (const d of out) {
    const first = seen.get(d.name);
    if (first) throw new UsageError(`${d.name} would be set twice, by ${first.from} and by ${d.from}; give the variable one source.`);
    seen.set(d.name, d);
  }
  return out;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The `--env` values as environment strings; a NUL byte or bytes that are not UTF-8 cannot be one. */
export function envValues(values: readonly Secret[], envs: ReadonlyArray<{ name: string }>): Map<string, string> {
  const out = new Map<string, string>();
  for (const { name } of envs) {
    const secret = values.find((v) => v.id === envSecretId(name));
    if (!secret) continue;
    const fix = `deliver it as a file instead: --secret id=${name.replace(/^[^A-Za-z0-9]+/, '') || 'value'},from=${secret.source} (then read $SECBUILD_SECRETS/ID)`;
    if (secret.value.includes(0)) throw new UsageError(`--env ${name}: the value of ${secret.source} contains a NUL byte, which an environment variable cannot hold; ${fix}.`);
    let text: string;
    try {
      text = UTF8.decode(secret.value);
    } catch {
      throw new UsageError(`--env ${name}: the value of ${secret.source} is not UTF-8 text, which an environment variable passed on by secbuild must be; ${fix}.`);
    }
    out.set(name, text);
  }
  return out;
}

/** `'…'` for sh: the path may hold spaces or quotes (a --tmpdir of the user's choosing). */
const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * git's credential helper for a .netrc secbuild rendered: `machine M\n  login
 * L\n  password P\n` per entry (src/secrets/render.ts; no value holds
 * whitespace, so the words split exactly as curl reads them), matched on the
 * host without its port (as curl and netrc do), the first entry winning. git
 * runs `!…` helpers with sh and the operation (`get`, `store`, `erase`) as an
 * argument; only `get` answers. Output goes to git on a pipe.
 */
export function gitCredentialHelper(netrc: string): string {
  return [
    '!f() { test "$1" = get || return 0; h=',
    'while IFS= read -r l; do case $l in host=*) h=${l#host=} ;; "") break ;; esac; done',
    'case $h in *\\]) ;; *:*) h=${h%:*} ;; esac; h=${h#\\[}; h=${h%\\]}',
    `set -f; set -- $(cat ${shQuote(netrc)})`,
    'while [ $# -ge 6 ]; do if [ "$1" = machine ] && [ "$2" = "$h" ]; then printf "username=%s\\npassword=%s\\n" "$4" "$6"; return 0; fi; shift 6; done; }; f',
  ].join('; ');
}

/**
 * The variables to add to the command's environment (undefined: removed),
 * once the files exist. `base` is the scrubbed environment they join (for
 * the user's own GIT_CONFIG_COUNT, which the helper is appended to).
 */
export function deliveredVars(o: {
  planned: readonly Delivered[];
  dir: string;
  files: readonly SecretFile[];
  values: ReadonlyMap<string, string>;
  base: ChildEnv;
}): Record<string, string | undefined> {
  const vars: Record<string, string | undefined> = {};
  const pathOf = (id: string | undefined) => o.files.find((f) => f.id === id)?.path;
  for (const d of o.planned) {
    if (d.name === 'SECBUILD_SECRETS') vars[d.name] = o.dir;
    else if (d.from.startsWith('--env ')) vars[d.name] = o.values.get(d.name);
    else if (d.name === 'GIT_CONFIG_COUNT') {
      const netrc = pathOf(d.id);
      if (!netrc) continue;
      const count = o.base.GIT_CONFIG_COUNT;
      const n = count !== undefined && /^\d+$/.test(count) ? Number(count) : 0;
      Object.assign(vars, { GIT_CONFIG_COUNT: String(n + 1), [`GIT_CONFIG_KEY_${n}`]: 'credential.helper', [`GIT_CONFIG_VALUE_${n}`]: gitCredentialHelper(netrc) });
    } else {
      if (d.name === 'NPM_CONFIG_USERCONFIG') for (const k of Object.keys(o.base)) if (k.toLowerCase() === 'npm_config_userconfig') vars[k] = undefined;
      vars[d.name] = pathOf(d.id);
    }
  }
  return vars;
}

/** For --dry-run: one line per variable, paths and names only (an --env value is `***` with its source). */
export function dryRunLines(planned: readonly Delivered[], dir: string, files: readonly SecretFile[], command: readonly string[], quote: (argv: readonly string[]) => string): string[] {
  const lines = [`command: ${quote(command)}`, 'environment: the scrubbed environment (every variable a secret is read from removed), plus:'];
  const pathOf = (id: string | undefined) => files.find((f) => f.id === id)?.path;
  for (const d of planned) {
    if (d.name === 'SECBUILD_SECRETS') lines.push(`  SECBUILD_SECRETS=${dir}`);
    else if (d.from.startsWith('--env ')) lines.push(`  ${d.name}=*** (the value of ${d.source ?? d.from})`);
    else if (d.name === 'GIT_CONFIG_COUNT') lines.push(`  GIT_CONFIG_COUNT, GIT_CONFIG_KEY_n, GIT_CONFIG_VALUE_n: git's credential.helper reading ${pathOf(d.id) ?? join(dir, d.id ?? '')}`);
    else if (pathOf(d.id)) lines.push(`  ${d.name}=${pathOf(d.id)}`);
  }
  lines.push('files:', ...(files.length ? files.map((f) => `  ${f.path} (secret "${f.id}", 0600)`) : ['  (none)']));
  return lines;
}

/**
 * SSH_AUTH_SOCK for the command, from the run's `ID=SOCKET` agents: the only
 * one, else the `default` id's; undefined (removed) when there are several and
 * none is `default`. Nothing to set without agents.
 */
export function authSock(ssh: readonly string[]): Record<string, string | undefined> {
  if (ssh.length === 0) return {};
  const agents = ssh.map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)] as const);
  const sock = agents.length === 1 ? agents[0]![1] : agents.find(([id]) => id === 'default')?.[1];
  return { SSH_AUTH_SOCK: sock };
}
