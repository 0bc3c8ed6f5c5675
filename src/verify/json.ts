/**
 * Walks a parsed JSON document and names every string (and every object
 * key, and every number as text) by its field path, as you would write it in
 * JavaScript: `config.Env[2]`, `history[3].created_by`,
 * `config.Labels["org.opencontainers.image.source"]` (a key that is not an
 * identifier is quoted), and `config.Labels["…"] (key)` for a key itself.
 * Pure.
 */

/** Called for each string of the document with its field path. */
export type JsonVisitor = (field: string, text: string) => void;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (IDENTIFIER.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

export function walkJson(doc: unknown, visit: JsonVisitor, path = ''): void {
  if (typeof doc === 'string') visit(path, doc);
  else if (typeof doc === 'number') visit(path, String(doc));
  else if (Array.isArray(doc)) doc.forEach((v, i) => walkJson(v, visit, fieldPath(path, i)));
  else if (doc !== null && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) {
      const child = fieldPath(path, k);
      visit(`${child} (key)`, k);
      walkJson(v, visit, child);
    }
  }
}
