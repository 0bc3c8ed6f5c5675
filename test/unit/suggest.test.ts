/** Typo suggestions for unknown commands and options (issue 11 item 1): edit distance ≤ 2, table-driven. */
import { describe, expect, test } from 'vitest';
import { closest, editDistance } from '../../src/args/suggest.js';

describe('editDistance', () => {
  test.each<[string, string, number]>([
    ['doctor', 'doctor', 0],
    ['docter', 'doctor', 1],
    ['verfy', 'verify', 1],
    ['chek', 'check', 1],
    ['--secrt', '--secret', 1],
    ['', 'abc', 3],
    ['app', 'help', 3],
  ])('%s → %s is %i', (a, b, d) => expect(editDistance(a, b)).toBe(d));
});

describe('closest', () => {
  const commands = ['build', 'compose', 'check', 'verify', 'secrets', 'secret', 'doctor', 'clean', 'help'];
  test.each<[string, string | undefined]>([
    ['docter', 'doctor'],
    ['verfy', 'verify'],
    ['chek', 'check'],
    ['secret', 'secret'],
    ['sercets', 'secrets'],
    ['app', undefined],
    ['.', undefined],
    ['./docs', undefined],
  ])('%s → %s', (word, hit) => expect(closest(word, commands)).toBe(hit));
});
