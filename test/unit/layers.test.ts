/**
 * The layers of src/ (README "Architecture"): a module imports only from its
 * own layer or the layers below it, and no file grows past ~300 lines. Read
 * from the source text, so a new upward import fails here before review.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT, sources } from '../helpers/source-files.js';


/** Lowest first. providers/ belongs to the secret model (where values come from). */
const LAYERS = ['util', 'args', 'run', 'secrets', 'guards', 'dockerfile', 'engines', 'verify', 'check', 'pipeline', 'cli'] as const;
const MAX_LINES = 300;


function layerOf(path: string): string {
  const rel = relative(ROOT, path).split('/');
  return rel[0] === 'providers' ? 'secrets' : rel[1]!;
}

const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'providers'))];

describe('layers', () => {
  test('every folder of src/ is a known layer', () => {
    const folders = readdirSync(join(ROOT, 'src')).filter((n) => statSync(join(ROOT, 'src', n)).isDirectory());
    expect(folders.filter((f) => !(LAYERS as readonly string[]).includes(f))).toEqual([]);
  });

  test('no import runs from a lower layer to a higher one', () => {
    const upward: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = resolve(dirname(file), m[1]!);
        const from = LAYERS.indexOf(layerOf(file) as (typeof LAYERS)[number]);
        const to = LAYERS.indexOf(layerOf(target) as (typeof LAYERS)[number]);
        if (to > from) upward.push(`${relative(ROOT, file)} (${layerOf(file)}) imports ${relative(ROOT, target)} (${layerOf(target)})`);
      }
    }
    expect(upward).toEqual([]);
  });

  test(`no file over ${MAX_LINES} lines`, () => {
    const long = files.map((f) => [relative(ROOT, f), readFileSync(f, 'utf8').split('\n').length] as const).filter(([, n]) => n > MAX_LINES);
    expect(long).toEqual([]);
  });
});
