/**
 * `docker buildx bake`, pure parts: the targets of `bake --print`'s JSON (bake
 * itself resolves HCL, JSON and compose files, variables, inheritance and
 * --set; secbuild never re-implements that), the id of a bake secret entry, and
 * the `--set TARGET.secrets=…` words that serve secbuild's files.
 *
 * Why --set and not an override file: `--set T.secrets=…` replaces the target's
 * list (buildx 0.13.1, ../shared/recipes section D), and repeating it gives
 * several entries; an extra `-f` file would turn off bake's default file
 * lookup and merges a target's lists by appending, which leaves two entries
 * for one id. So each served target gets its whole list again: its own
 * entries for ids secbuild does not provide, verbatim, then secbuild's files.
 */
import type { SecretFile } from '../../run/rundir.js';
import { csvField } from '../../secrets/csv.js';
import { UsageError } from '../../util/errors.js';

export interface BakeTarget {
  name: string;
  context: string;
  dockerfile?: string;
  dockerfileInline?: string;
  target?: string;
  args: Record<string, string>;
  labels: Record<string, string>;
  secret: string[];
  ssh: string[];
  tags: string[];
  attest: string[];
  output: string[];
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const record = (v: unknown): Record<string, string> =>
  v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string')) : {};

/** The targets of `docker buildx bake --print` output; `shown` names the command in an error. */
export function parseBakePrint(text: string, shown: string): BakeTarget[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${shown} did not print a bake definition (JSON); check that docker buildx is installed and the bake file is valid.`);
  }
  const targets = (json as { target?: unknown }).target;
  if (!targets || typeof targets !== 'object') return [];
  return Object.entries(targets as Record<string, Record<string, unknown>>).map(([name, t]) => ({
    name,
    context: typeof t.context === 'string' ? t.context : '.',
    ...(typeof t.dockerfile === 'string' ? { dockerfile: t.dockerfile } : {}),
    ...(typeof t['dockerfile-inline'] === 'string' ? { dockerfileInline: t['dockerfile-inline'] as string } : {}),
    ...(typeof t.target === 'string' && t.target ? { target: t.target } : {}),
    args: record(t.args),
    labels: record(t.labels),
    secret: strings(t.secret),
    ssh: strings(t.ssh),
    tags: strings(t.tags),
    attest: strings(t.attest),
    output: strings(t.output),
  }));
}

/** The id of a bake secret entry (`id=X,env=V`, `type=file,id=X,src=P`); undefined when it names none. */
export function secretEntryId(entry: string): string | undefined {
  for (const field of entry.split(',')) {
    const eq = field.indexOf('=');
    if (eq > 0 && field.slice(0, eq).trim().toLowerCase() === 'id') return field.slice(eq + 1).trim().replace(/^"|"$/g, '');
  }
  return undefined;
}

/** A user's `--set` that sets secrets or ssh through a pattern (`*.secrets`, `*.ssh`): refused, since secbuild replaces lists per target. */
export function checkSecretSets(sets: readonly string[]): void {
  for (const s of sets) {
    const key = s.slice(0, s.indexOf('=') < 0 ? s.length : s.indexOf('='));
    if (/\.(?:secrets?|ssh)$/.test(key) && /[*?[\]]/.test(key)) {
      throw new UsageError(`--set ${key}=…: secbuild serves secrets and ssh agents per target; name the target instead of a pattern (--set TARGET.${key.slice(key.lastIndexOf('.') + 1)}=…).`);
    }
  }
}

/** Whether a user's --set word sets the list `key` (secrets, ssh) of `target` (secbuild's --set then replaces it). */
const setsListOf = (set: string, target: string, key: string) => set.startsWith(`${target}.${key}=`);

/** What each target is served: target name → the run's files it gets. */
export type Served = ReadonlyMap<string, readonly SecretFile[]>;

/** More of what a target is given: secbuild's ssh agents (`ID=SOCKET`) and further `--set` values (`T.KEY=V`). */
export interface BakeExtras {
  /** target name → `ID=SOCKET` of each agent it gets; the target's own ssh entries for other ids are kept. */
  ssh?: ReadonlyMap<string, readonly string[]>;
  /** `T.KEY=VALUE` words given as `--set` after secbuild's lists (a cache policy's derived Dockerfile and args). */
  sets?: readonly string[];
}

/** The id of a bake ssh entry (`default`, `id=/path/key`). */
const sshEntryId = (entry: string) => entry.split('=')[0]!.trim();

/**
 * The bake argv after `docker`: `buildx bake <user's options, without their --set
 * of a served target's secrets or ssh> --set T.secrets=… (the target's own entries
 * kept, then secbuild's files) --set T.ssh=… (likewise) <extras> <targets>`.
 */
export function bakeArgv(bakeArgs: readonly string[], targets: readonly BakeTarget[], served: Served, names: readonly string[], extras: BakeExtras = {}): string[] {
  const has = (m: ReadonlyMap<string, readonly unknown[]> | undefined, t: string) => (m?.get(t)?.length ?? 0) > 0;
  const replaced = (set: string) => targets.some((t) => (has(served, t.name) && setsListOf(set, t.name, 'secrets')) || (has(extras.ssh, t.name) && setsListOf(set, t.name, 'ssh')));
  const words: string[] = [];
  for (let i = 0; i < bakeArgs.length; i++) {
    const w = bakeArgs[i]!;
    const value = w === '--set' ? bakeArgs[i + 1] : w.startsWith('--set=') ? w.slice(6) : undefined;
    if (value !== undefined && replaced(value)) {
      if (w === '--set') i++;
      continue;
    }
    words.push(w);
  }
  const sets: string[] = [];
  for (const t of targets) {
    const files = served.get(t.name) ?? [];
    if (files.length > 0) {
      const ours = new Set(files.map((f) => f.id));
      for (const e of t.secret.filter((e) => !ours.has(secretEntryId(e) ?? ''))) sets.push('--set', `${t.name}.secrets=${e}`);
      for (const f of files) sets.push('--set', `${t.name}.secrets=${csvField(`id=${f.id}`)},${csvField(`src=${f.path}`)}`);
    }
    const agents = extras.ssh?.get(t.name) ?? [];
    if (agents.length > 0) {
      const ours = new Set(agents.map(sshEntryId));
      for (const e of t.ssh.filter((e) => !ours.has(sshEntryId(e)))) sets.push('--set', `${t.name}.ssh=${e}`);
      for (const a of agents) sets.push('--set', `${t.name}.ssh=${a}`);
    }
  }
  for (const s of extras.sets ?? []) sets.push('--set', s);
  return ['buildx', 'bake', ...words, ...sets, ...(names.length > 0 ? ['--', ...names] : [])];
}

/** The argv of the plan: `buildx bake --print` with the user's files, --set and targets. */
export function bakePrintArgv(files: readonly string[], sets: readonly string[], names: readonly string[]): string[] {
  return ['buildx', 'bake', ...files.flatMap((f) => ['-f', f]), ...sets.flatMap((s) => ['--set', s]), '--print', ...(names.length > 0 ? ['--', ...names] : [])];
}
