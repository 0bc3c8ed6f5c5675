/**
 * SSH keys as secrets: `--ssh-key [ID=]REF` and secbuild.yml's `ssh:` section
 * become `ref` specs that carry the ssh id they load into (`ssh`), are never
 * written to the run directory (`mount: false`) and are resolved, masked and
 * verified like every other value. Pure parsing, no I/O.
 *
 *   secbuild --ssh-key env:DEPLOY_KEY -t app .          # ssh id "default"
 *   secbuild --ssh-key gitlab=keychain:ci/gitlab --ssh-key gitlab=file:./extra_key .
 *
 *   ssh:
 *     default: { from: keychain:deploy/github }
 *     gitlab: { from: [env:GITLAB_KEY, file:./second_key] }
 *
 * An id given by --ssh-key replaces that id's keys from secbuild.yml (as
 * --secret replaces a config secret). docker's own `--ssh ID[=PATH]` passes
 * through untouched; the same id from both is a usage error.
 */
import { parseRef } from '../../providers/index.js';
import { UsageError } from '../util/errors.js';
import { showTyped } from '../util/shown.js';
import { checkId, type SecretSpec } from './spec.js';

export type SshSpec = Extract<SecretSpec, { kind: 'ref' }> & { ssh: string };

export const isSshSpec = (s: SecretSpec): s is SshSpec => s.kind === 'ref' && typeof (s as { ssh?: unknown }).ssh === 'string';

/** The spec id of the n-th key of ssh id `id`: `ssh:ID`, `ssh:ID#2`… (no secret id holds ":"). */
export const sshSpecId = (id: string, n: number) => (n === 0 ? `ssh:${id}` : `ssh:${id}#${n + 1}`);

function sshId(id: string, where: string): string {
  try {
    return checkId(id, where);
  } catch {
    throw new UsageError(`${where}: ssh id "${id.slice(0, 40)}" must start with a letter or digit and use only letters, digits, ".", "_" and "-".`);
  }
}

/** `[ID=]REF`: the part before the first "=" is an id when it holds no ":" (a reference always does). */
export function parseSshKeyFlag(value: string, cwd: string): { id: string; spec: Omit<SshSpec, 'id'> } {
  const eq = value.indexOf('=');
  const head = eq > 0 ? value.slice(0, eq) : '';
  const hasId = head !== '' && !head.includes(':');
  const id = hasId ? sshId(head, '--ssh-key') : 'default';
  const ref = hasId ? value.slice(eq + 1) : value;
  if (!ref) throw new UsageError(`--ssh-key ${value}: no reference after "="; write --ssh-key ${id}=env:DEPLOY_KEY.`);
  return { id, spec: { kind: 'ref', optional: false, mount: false, origin: showTyped(`--ssh-key ${value}`), ssh: id, ref: parseRef(ref, cwd, `--ssh-key ${id}`) } };
}

/** Specs for keys grouped by ssh id, in first-seen order. */
export function sshSpecs(items: ReadonlyArray<{ id: string; spec: Omit<SshSpec, 'id'> }>): SshSpec[] {
  const counts = new Map<string, number>();
  return items.map(({ id, spec }) => {
    const n = counts.get(id) ?? 0;
    counts.set(id, n + 1);
    return { ...spec, id: sshSpecId(id, n) };
  });
}

/** secbuild.yml `ssh:`: a mapping of ssh ids to a reference, `{ from: REF }` or `{ from: [REF, …] }`. */
export function parseSshSection(section: unknown, path: string, base: string): SshSpec[] {
  const bad = (keyPath: string, expected: string): never => {
    throw new UsageError(`${path}: ${keyPath}: expected ${expected}.`);
  };
  if (section === undefined || section === null) return [];
  if (typeof section !== 'object' || Array.isArray(section)) bad('ssh', 'a mapping of ssh ids to { from: REF }');
  const items: Array<{ id: string; spec: Omit<SshSpec, 'id'> }> = [];
  for (const [id, raw] of Object.entries(section as Record<string, unknown>)) {
    const at = `ssh.${id}`;
    sshId(id, `${path}: ${at}`);
    const def = typeof raw === 'string' ? { from: raw } : raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : bad(at, 'a reference string or { from: REF }');
    for (const k of Object.keys(def)) {
      if (k === 'passphrase') bad(`${at}.passphrase`, 'no passphrase: secbuild loads only unencrypted keys (see the README\'s SSH section: decrypt the key into its store with ssh-keygen -p)');
      if (!['from', 'description'].includes(k)) bad(`${at}.${k}`, 'one of from, description (unknown key)');
    }
    const refs = Array.isArray(def.from) ? def.from : [def.from];
    if (refs.length === 0) bad(`${at}.from`, 'at least one reference');
    refs.forEach((r, i) => {
      const keyPath = Array.isArray(def.from) ? `${at}.from[${i}]` : `${at}.from`;
      if (typeof r !== 'string' || !r) bad(keyPath, 'a reference such as keychain:deploy/github or env:DEPLOY_KEY');
      items.push({ id, spec: { kind: 'ref', optional: false, mount: false, origin: showTyped(`${path} ${keyPath}`), ssh: id, ref: parseRef(r as string, base, `${path} ${keyPath}`) } });
    });
  }
  return sshSpecs(items);
}

/** Config keys with the command line's on top: an ssh id given by --ssh-key drops that id's config keys. */
export function mergeSsh(config: readonly SshSpec[], cli: readonly SshSpec[]): SshSpec[] {
  const cliIds = new Set(cli.map((s) => s.ssh));
  return [...config.filter((s) => !cliIds.has(s.ssh)), ...cli];
}

/** The ids docker's own `--ssh` values forward: `default`, `ID=PATH[,PATH]`, `ID`. */
export function dockerSshIds(values: readonly string[]): string[] {
  return values.map((v) => v.split('=', 1)[0]!.trim() || 'default');
}

/** Refuses an ssh id given both by docker's --ssh and by --ssh-key / secbuild.yml. */
export function checkSshConflicts(specs: readonly SecretSpec[], dockerSsh: readonly string[]): void {
  const ours = new Map(specs.filter(isSshSpec).map((s) => [s.ssh, s.origin]));
  for (const [i, id] of dockerSshIds(dockerSsh).entries()) {
    const origin = ours.get(id);
    if (origin) throw new UsageError(`ssh id "${id}" is given twice: by docker's --ssh ${dockerSsh[i]} and by ${origin}; give it once (drop the --ssh flag to let secbuild run the agent).`);
  }
}

/** Every ssh id the build forwards: secbuild's agents and docker's own --ssh. */
export function providedSshIds(specs: readonly SecretSpec[], dockerSsh: readonly string[]): Set<string> {
  return new Set([...specs.filter(isSshSpec).map((s) => s.ssh), ...dockerSshIds(dockerSsh)]);
}
