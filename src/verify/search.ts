/**
 * One search of an image: the compiled patterns, and the hits found so far.
 *
 * Every stream (a file in a layer, a file name, a config string, a history
 * line) gets its own scanner over the one compiled Matcher (a WideScanner,
 * src/verify/wide.ts), so a match can straddle the chunks of one stream but
 * never two streams. A hit records where it was found and which pattern
 * matched — the pattern's secret id and form, never its bytes. Hits are
 * grouped per place and secret, with a count, so a file holding a token a
 * thousand times is one hit. Anything printable about a place (a file
 * name, a label key) goes through `redact()` first: a secret in a file name
 * is shown as `***`.
 */
import { Matcher } from '../guards/matcher.js';
import type { Pattern, PatternForm } from '../secrets/forms.js';
import { WideScanner } from './wide.js';

/** What of a layer's entry matched: its content, name, link target or PAX record; elsewhere in its header blocks; the padding after its content; or the end of the layer (`path` is empty). */
export type LayerPart = 'content' | 'name' | 'linkname' | 'pax' | 'header' | 'padding' | 'end';

/** Where a hit was found, before the archive's layout is known. */
export type Place =
  /** In a layer tar (archive path `blob`). */
  | { kind: 'layer'; blob: string; path: string; part: LayerPart }
  /** In the archive's own tar: the header or padding of entry `blob`, or its end (`blob` empty). */
  | { kind: 'archive'; blob: string; part: 'header' | 'padding' | 'end' }
  /** A string (or key) in a JSON file of the archive: the image config, a manifest, a v1 layer json. */
  | { kind: 'json'; blob: string; field: string }
  /** Raw bytes of an archive entry that is neither a layer nor readable JSON. */
  | { kind: 'blob'; blob: string }
  /** A field of one `docker history --no-trunc` entry (0 = newest). */
  | { kind: 'history'; entry: number; field: string };

export interface RawHit {
  place: Place;
  secret: string;
  forms: Set<PatternForm>;
  occurrences: number;
}

export class Search {
  readonly matcher: Matcher;
  readonly #hits = new Map<string, RawHit>();
  /** Secret ids, and per pattern: the index of its secret, its form, its length. */
  readonly secrets: string[];
  readonly secretOf: Int32Array;
  readonly formOf: readonly PatternForm[];
  readonly lengthOf: Int32Array;
  /** The longest pattern's length (a match starts at most this far before its end). */
  readonly longest: number;

  constructor(readonly patterns: readonly Pattern[]) {
    this.matcher = new Matcher(patterns.map((p) => p.bytes));
    this.secrets = [...new Set(patterns.map((p) => p.id))];
    this.secretOf = Int32Array.from(patterns, (p) => this.secrets.indexOf(p.id));
    this.formOf = patterns.map((p) => p.form);
    this.lengthOf = Int32Array.from(patterns, (p) => p.bytes.length);
    this.longest = Math.max(0, ...this.lengthOf);
  }

  /**
   * The hits, each once: the raw bytes of an entry's header hold its name,
   * link target and PAX records, and a JSON file's text its strings, so a
   * header or blob hit is left out where its entry's name/link/PAX (or its
   * JSON fields) already name that secret.
   */
  get hits(): RawHit[] {
    const hits = [...this.#hits.values()];
    const named = new Set<string>();
    for (const h of hits) {
      const p = h.place;
      if (p.kind === 'layer' && (p.part === 'name' || p.part === 'linkname' || p.part === 'pax')) named.add(`${p.blob}\0${p.path}\0${h.secret}`);
      if (p.kind === 'json') named.add(`${p.blob}\0${h.secret}`);
    }
    return hits.filter(({ place: p, secret }) => {
      if (p.kind === 'layer' && p.part === 'header') return !named.has(`${p.blob}\0${p.path}\0${secret}`);
      if (p.kind === 'blob') return !named.has(`${p.blob}\0${secret}`);
      return true;
    });
  }

  /** Records `occurrences` of secret number `secret` at `place`, found in `forms`. */
  record(place: Place, secret: number, forms: Iterable<PatternForm>, occurrences: number): void {
    const id = this.secrets[secret]!;
    const key = `${JSON.stringify(place)}\0${id}`;
    let hit = this.#hits.get(key);
    if (!hit) this.#hits.set(key, (hit = { place, secret: id, forms: new Set(), occurrences: 0 }));
    for (const f of forms) hit.forms.add(f);
    hit.occurrences += occurrences;
  }

  /**
   * A sink for one stream: feed it chunks, then `end()` records what was
   * found at `place` (a place is only built when something matched).
   */
  stream(place: () => Place): StreamSearch {
    return new StreamSearch(this, place);
  }

  /** Searches one whole buffer (a name, a config string) as its own stream. */
  bytes(data: Uint8Array, place: () => Place): void {
    if (data.length === 0) return;
    const s = this.stream(place);
    s.feed(data);
    s.end();
  }

  /** `text` with every pattern occurrence replaced by `***`: for printing names, keys and paths. */
  redact(text: string): string {
    const bytes = Buffer.from(text, 'utf8');
    const found: [number, number][] = [];
    this.matcher.createScanner().feed(bytes, (i, end) => found.push([end - this.matcher.lengthOf(i), end]));
    if (found.length === 0) return text;
    found.sort((a, b) => a[0] - b[0]);
    const spans: [number, number][] = [];
    for (const [s, e] of found) {
      const last = spans.at(-1);
      if (last && s <= last[1]) last[1] = Math.max(last[1], e);
      else spans.push([s, e]);
    }
    const parts: Buffer[] = [];
    let at = 0;
    for (const [s, e] of spans) {
      parts.push(bytes.subarray(at, s), Buffer.from('***'));
      at = e;
    }
    parts.push(bytes.subarray(at));
    return Buffer.concat(parts).toString('utf8');
  }
}

/**
 * One stream's scan: state carries across chunks; results are recorded at
 * `end()`. Matches of one secret that overlap (the forms of one base64
 * occurrence, a line inside the whole value) count as one occurrence.
 */
export class StreamSearch {
  readonly #scanner;
  #found: Map<number, { forms: Set<PatternForm>; count: number; lastEnd: number }> | undefined;
  readonly #onMatch = (index: number, end: number): void => {
    const search = this.search;
    const secret = search.secretOf[index]!;
    const found = (this.#found ??= new Map());
    let f = found.get(secret);
    if (!f) found.set(secret, (f = { forms: new Set(), count: 0, lastEnd: -1 }));
    f.forms.add(search.formOf[index]!);
    if (end - search.lengthOf[index]! >= f.lastEnd) f.count++;
    f.lastEnd = Math.max(f.lastEnd, end);
  };

  constructor(
    private readonly search: Search,
    private readonly place: () => Place,
  ) {
    this.#scanner = new WideScanner(search.matcher);
  }

  feed(chunk: Uint8Array): void {
    this.#scanner.feed(chunk, this.#onMatch);
  }

  end(): void {
    if (!this.#found) return;
    const place = this.place();
    for (const [secret, f] of this.#found) this.search.record(place, secret, f.forms, f.count);
    this.#found = undefined;
  }
}
