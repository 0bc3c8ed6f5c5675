/**
 * Printing a verify result: one line per hit and a summary (bytes and layers
 * searched, time taken), or the whole result as JSON. Built from the result
 * alone, which holds ids, sources, paths and counts — never a value.
 */
import type { VerifyResult } from './scan.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function megabytes(bytes: number): string {
  return bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

/** MB/s of layer data over the whole run (docker save included). */
export function throughput(r: Pick<VerifyResult, 'layerBytes' | 'ms'>): number {
  return r.ms > 0 ? r.layerBytes / 1e6 / (r.ms / 1000) : 0;
}

export function summaryLine(r: VerifyResult): string {
  const secrets = new Set(r.hits.map((h) => h.secret)).size;
  const verdict = r.clean
    ? r.unreadable.length ? 'NOT VERIFIED' : 'clean'
    : `${plural(r.hits.length, 'leak')} of ${plural(secrets, 'secret')}`;
  return (
    `${r.image}${r.image === r.id ? '' : ` (${r.id})`}: ${verdict}; searched ${plural(r.layers, 'layer')} ` +
    `(${megabytes(r.layerBytes)} of layer data, ${plural(r.files, 'file')}), ${plural(r.jsonFiles, 'JSON file')} (image config, manifests) ` +
    `and ${r.historyEntries} history ${r.historyEntries === 1 ? 'entry' : 'entries'} in ${(r.ms / 1000).toFixed(2)} s (${throughput(r).toFixed(0)} MB/s)` +
    (r.secrets?.length ? `; ${plural(r.secrets.length, 'secret')} searched for: ${r.secrets.join(', ')}` : '')
  );
}

/** Lines for a hit list (each `LEAK …`) and the blobs that could not be read. */
export function hitLines(r: VerifyResult): string[] {
  return [
    ...r.hits.map((h) => `LEAK ${h.where}${h.occurrences > 1 ? ` (${h.occurrences} times)` : ''} [${h.forms.join(', ')}]`),
    ...r.unreadable.map((u) => `NOT SEARCHED ${u.blob}: ${u.reason}`),
  ];
}

export function textReport(r: VerifyResult): string {
  return [...hitLines(r), summaryLine(r)].map((l) => `${l}\n`).join('');
}

export function jsonReport(r: VerifyResult): string {
  return `${JSON.stringify(r, null, 2)}\n`;
}
