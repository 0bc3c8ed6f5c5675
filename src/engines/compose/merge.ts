/**
 * Merging compose files the way Compose does, for the parts secbuild reads.
 * Mirrors compose-spec/compose-go override/merge.go (mergeSpecials) and
 * override/uncity.go (EnforceUnicity):
 *
 * - mappings merge key by key, sequences append, scalars are replaced; a null
 *   in the later file keeps the earlier value;
 * - `services.*.build`: a string is `{context: …}` before merging;
 * - `services.*.build.args` and `.labels`: both sides become `K=V` sequences,
 *   appended, then one entry per key (the later value, at the first position);
 * - `services.*.build.extra_hosts`: appended without exact duplicates;
 * - `services.*.depends_on`: a list becomes a mapping, then mappings merge;
 * - the `!reset` and `!override` tags (Compose 2.24.4+) remove or replace a value.
 *
 * Pure: values in, a new value out.
 */

export type Tags = ReadonlyMap<string, 'reset' | 'override'>;
type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key path as the tag map stores it. */
export const pathKey = (path: readonly string[]) => path.join('\0');

function matches(path: readonly string[], pattern: string): boolean {
  const parts = pattern.split('.');
  return parts.length === path.length && parts.every((p, i) => p === '*' || p === path[i]);
}

/** compose-go convertIntoSequence: a mapping becomes sorted `K=V` (or `K` for null) entries. */
export function toSequence(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObj(v)) {
    const seq: string[] = [];
    for (const [k, val] of Object.entries(v)) {
      if (val === null || val === undefined) seq.push(k);
      else if (Array.isArray(val)) val.forEach((x) => seq.push(`${k}=${String(x)}`));
      else seq.push(`${k}=${String(val)}`);
    }
    return seq.sort();
  }
  if (typeof v === 'string') return [v];
  return [];
}

/** keyValueIndexer: one entry per `K` of `K=V`, the later value kept at the first position. */
function uniqueByKey(seq: unknown[]): unknown[] {
  const out: unknown[] = [];
  const at = new Map<string, number>();
  for (const e of seq) {
    const key = String(e).split('=')[0]!;
    if (at.has(key)) out[at.get(key)!] = e;
    else {
      at.set(key, out.length);
      out.push(e);
    }
  }
  return out;
}

function toMapping(v: unknown): Obj {
  if (isObj(v)) return v;
  if (Array.isArray(v)) return Object.fromEntries(v.map((s) => [String(s), { condition: 'service_started', required: true }]));
  return {};
}

const special: Array<[string, (a: unknown, b: unknown, path: string[], tags: Tags) => unknown]> = [
  ['services.*.build', (a, b, path, tags) => mergeValue(typeof a === 'string' ? { context: a } : a, typeof b === 'string' ? { context: b } : b, path, tags, true)],
  ['services.*.build.args', (a, b) => uniqueByKey([...toSequence(a), ...toSequence(b)])],
  ['services.*.build.labels', (a, b) => uniqueByKey([...toSequence(a), ...toSequence(b)])],
  ['services.*.build.extra_hosts', (a, b) => {
    const left = toSequence(a);
    return [...left, ...toSequence(b).filter((x) => !left.includes(x))];
  }],
  ['services.*.depends_on', (a, b, path, tags) => mergeValue(toMapping(a), toMapping(b), path, tags, true)],
  ['services.*.command', (_a, b) => b],
  ['services.*.entrypoint', (_a, b) => b],
];

/**
 * Merges `over` (a later file, whose tags are `tags`) onto `base`. `skipSpecial`
 * is set when a special rule has already normalised both sides.
 */
export function mergeValue(base: unknown, over: unknown, path: string[], tags: Tags, skipSpecial = false): unknown {
  if (over === null || over === undefined) return base;
  if (!skipSpecial) {
    for (const [pattern, fn] of special) if (matches(path, pattern)) return fn(base, over, path, tags);
  }
  if (isObj(base) && isObj(over)) {
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const p = [...path, k];
      const tag = tags.get(pathKey(p));
      if (tag === 'reset') delete out[k];
      else if (tag === 'override' || !(k in out)) out[k] = v;
      else out[k] = mergeValue(out[k], v, p, tags);
    }
    return out;
  }
  if (Array.isArray(base) && Array.isArray(over)) return [...base, ...over];
  return over;
}

/**
 * Applies the tags of the first file to itself: `!reset` removes a value even
 * when nothing is merged onto it.
 */
export function applyOwnResets(value: unknown, tags: Tags, path: string[] = []): unknown {
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    const p = [...path, k];
    if (tags.get(pathKey(p)) === 'reset') continue;
    out[k] = applyOwnResets(v, tags, p);
  }
  return out;
}
