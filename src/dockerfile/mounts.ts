/**
 * One `RUN --mount=…` value: its type and target, the stage it reads
 * (from=), and for secret and ssh mounts the id a build must provide.
 *
 * Mirrors moby/buildkit frontend/dockerfile:
 * - instructions/commands_runmount.go `parseMount`: CSV fields, case-insensitive
 *   keys, aliases (src, dst, destination), type bind by default, values expanded
 *   with the stage's ARG/ENV, `required` alone or as a Go bool;
 * - dockerfile2llb/convert_secrets.go `dispatchSecret`: id = source, else id,
 *   else basename(target); default target /run/secrets/<id>;
 * - dockerfile2llb/convert_ssh.go `dispatchSSH`: source= is rejected; the id is
 *   id=, and BuildKit's sshforward uses `default` when it is empty;
 * - dockerfile2llb/convert_runmount.go `detectRunMount`: from= names a stage
 *   (a value with a variable is not followed);
 * - `env=` (dockerfile frontend 1.10, BuildKit v0.16: moby/buildkit#5215) is
 *   read on any mount type and kept as an EnvMount, whatever else the value
 *   holds: a frontend before 1.10 refuses the key (./frontend.ts).
 */
import { expandWord } from './expand.js';
import { GO_TRUE, goBase, splitCsv } from './flags.js';
import type { EnvMount, RunMount, SecretMount, SshMount, Vars } from './types.js';

export interface MountRead {
  /** Set when the value is well-formed and its type known. */
  mount?: RunMount;
  /** from=, when it has no variable. */
  from?: string;
  secret?: SecretMount;
  ssh?: SshMount;
  /** Set when the value has an env= key. */
  env?: EnvMount;
  /** Why the mount was not checked. */
  note?: string;
}

const ALIASES: Record<string, string> = { src: 'source', dst: 'target', destination: 'target' };

/** `value` of a `--mount` flag on `line` of stage `stage`; `at` is `path:line` for notes. */
export function readMount(value: string | null, line: number, stage: string, vars: Vars, esc: string, at: string): MountRead {
  const fields = value === null ? null : splitCsv(value);
  if (!fields) {
    const what = value === null ? '"--mount" needs "=" (--mount=type=secret,...)' : '--mount value is not valid CSV';
    return { note: `${at}: ${what}; BuildKit rejects this RUN, so its mounts were not checked` };
  }
  const opts = new Map<string, string | true>();
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    opts.set(ALIASES[key] ?? key, eq < 0 ? true : field.slice(eq + 1));
  }
  const raw = (key: string) => (typeof opts.get(key) === 'string' ? (opts.get(key) as string) : '');
  const val = (key: string) => expandWord(raw(key), vars, esc);
  const req = opts.get('required');
  const required = req === true || (req !== undefined && GO_TRUE.has(expandWord(req, vars, esc) ?? ''));

  const out: MountRead = {};
  const envKey = opts.get('env');
  if (envKey !== undefined) out.env = { line, env: envKey === true ? '' : envKey, file: '' };
  const from = raw('from');
  if (from && !/\$./.test(from)) out.from = from;
  const type = val('type');
  if (type === null) return { ...out, note: `${at}: mount type "${raw('type')}" uses a variable secbuild cannot expand; not checked` };
  const kind = type.toLowerCase() || 'bind';
  const target = val('target');
  out.mount = { type: kind, target: target ?? raw('target'), line };

  if (kind === 'ssh') {
    const id = val('id');
    if (raw('source')) out.note = `${at}: ssh mount sets source=; BuildKit rejects it ("ssh does not support source"), so it was not checked`;
    else if (id === null) out.note = `${at}: ssh mount id "${raw('id')}" uses a variable secbuild cannot expand; not checked`;
    else out.ssh = { id: id || 'default', line, stage, required };
    return out;
  }
  if (kind !== 'secret') return out;

  const [source, id] = [val('source'), val('id')];
  // dispatchSecret takes source, else id, else basename(target): stop at the first one that cannot be expanded
  const unknown = source === null ? 'source' : source ? '' : id === null ? 'id' : id ? '' : target === null ? 'target' : '';
  if (unknown) return { ...out, note: `${at}: secret mount id "${raw(unknown)}" uses a variable secbuild cannot expand; not checked` };
  if (source && id) return { ...out, note: `${at}: secret mount sets both source= and id=; BuildKit rejects it, so it was not checked` };
  const secretId = source || id || (target ? goBase(target) : '');
  if (!secretId) {
    return { ...out, note: `${at}: secret mount has no id, source or target; BuildKit rejects it ("one of source, target required"). Add id=NAME.` };
  }
  const file = target === null ? raw('target') : target || `/run/secrets/${goBase(secretId)}`;
  if (out.env) out.env.file = file;
  // With env= and no target= the secret is not mounted as a file (on a frontend that takes env=).
  out.secret = { id: secretId, line, stage, required, target: out.env && target === '' ? '' : file };
  return out;
}
