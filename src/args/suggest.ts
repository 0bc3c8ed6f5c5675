/**
 * "Did you mean …?" for an unknown command or option: the known word within
 * edit distance 2 (Levenshtein: insert, delete, substitute), nearest first,
 * the earlier in the list on a tie. Pure. Words shorter than three letters
 * get no suggestion (any two letters are two edits from any other two).
 */
import { UsageError } from '../util/errors.js';

/** Levenshtein distance between two strings. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The known word nearest to `word` within `max` edits, or undefined. */
export function closest(word: string, known: Iterable<string>, max = 2): string | undefined {
  if (word.replace(/^-+/, '').length < 3) return undefined;
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}


/** An option a command line may carry: long name, one-letter alias. */
export interface KnownFlag {
  name: string;
  short?: string;
}

/**
 * The usage error for a flag that no table knows: a short flag that differs
 * from a known one only in case (`-v` for `-V`), or a long one within two
 * edits, is named; otherwise the command's help is.
 */
export function unknownOption(flag: string, known: readonly KnownFlag[], command: string): UsageError {
  let hit: KnownFlag | undefined;
  if (!flag.startsWith('--')) hit = known.find((k) => k.short !== undefined && k.short.toLowerCase() === flag.toLowerCase());
  else {
    const name = closest(flag, known.map((k) => k.name));
    hit = known.find((k) => k.name === name);
  }
  if (!hit) return new UsageError(`unknown option ${flag}: not a secbuild option nor a docker build flag; see ${command} --help.`);
  const named = !flag.startsWith('--') && hit.short ? `${hit.short} (${hit.name})` : hit.name;
  return new UsageError(`unknown option ${flag}; did you mean ${named}?`);
}
