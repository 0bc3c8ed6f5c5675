/**
 * Docker's flag values are CSV records (`id=a,src="b,c"`), parsed in buildx with
 * go-csvvalue (tonistiigi/go-csvvalue csvvalue.go, LazyQuotes off). Every
 * record docker accepts is read here as docker reads it:
 * - fields are separated by commas;
 * - a field that starts with `"` is quoted: `""` inside is a quote, and the
 *   closing quote must end the field (or the record).
 * Docker refuses any other double quote ("bare \" in non-quoted field"); secbuild
 * gives those a meaning, so a `cmd:` command can be typed as in a shell:
 * - a value that starts with `"` right after `key=` is quoted the same way
 *   (`from="cmd:printf a,b"`);
 * - elsewhere a `"` is kept as it is, and a comma between two such quotes does
 *   not end the field: `from=cmd:sh -c "printf a,b"` is one field, and cmd:
 *   then groups the quoted words itself.
 * A single quote is an ordinary character (`src=it's.txt` is a file name, as
 * for docker), so a comma inside single quotes needs the whole field quoted:
 * `"from=cmd:sh -c 'printf a,b'"`.
 */
export function splitCsv(text: string): string[] {
  const fields: string[] = [];
  let i = 0;
  /** Reads a quoted run starting after its opening quote; returns its text and moves i past the closing quote. */
  const quoted = (): string => {
    let out = '';
    for (;;) {
      if (i >= text.length) throw new Error('unterminated double quote');
      const c = text[i++]!;
      if (c !== '"') out += c;
      else if (text[i] === '"') {
        out += '"';
        i++;
      } else return out;
    }
  };
  const fieldEnd = (): void => {
    if (i < text.length && text[i] !== ',') throw new Error('text after a closing double quote (a quoted field or value must end at the comma)');
  };
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      field = quoted();
      fieldEnd();
    } else {
      let grouped = false;
      for (; i < text.length; i++) {
        const c = text[i]!;
        if (c === ',' && !grouped) break;
        if (c === '"' && !grouped && field.endsWith('=') && field.indexOf('=') === field.length - 1) {
          i++;
          field += quoted();
          fieldEnd();
          break;
        }
        if (c === '"') grouped = !grouped;
        field += c;
      }
      if (grouped) throw new Error('unterminated double quote');
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
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
      throw new Error(`a field is not a key=value pair (to keep a comma in a value, quote the whole field: "from=cmd:printf a,b")`);
    }
    return [field.slice(0, eq).trim().toLowerCase(), field.slice(eq + 1)];
  });
}
