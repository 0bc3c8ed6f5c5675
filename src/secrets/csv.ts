/**
 * Docker's flag values are CSV records (`id=a,src="b,c"`), parsed in buildx with
 * go-csvvalue. This is the same small subset: comma-separated fields, double
 * quotes group a field and `""` inside quotes is a literal quote.
 */
export function splitCsv(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  if (quoted) throw new Error('unterminated double quote');
  fields.push(field);
  return fields;
}

/** Quotes one field when it holds a comma or a quote, so docker reads it back unchanged. */
export function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Parses `key=value,...` into ordered pairs. `bare` lists words allowed without
 * `=` (they become `[word, 'true']`).
 */
export function parseKeyValues(text: string, bare: readonly string[] = []): Array<[string, string]> {
  return splitCsv(text).map((field) => {
    const eq = field.indexOf('=');
    if (eq === -1) {
      if (bare.includes(field.trim().toLowerCase())) return [field.trim().toLowerCase(), 'true'];
      throw new Error(`"${field}" is not a key=value pair`);
    }
    return [field.slice(0, eq).trim().toLowerCase(), field.slice(eq + 1)];
  });
}
