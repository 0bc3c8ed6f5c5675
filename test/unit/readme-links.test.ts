/**
 * README.md's own links hold: every `(#anchor)` names a heading (GitHub's
 * slugs: lower case, punctuation but `-` and `_` dropped, spaces to `-`,
 * a repeated heading gets `-1`, `-2`), and every relative link names a file
 * or directory of the repository. The README is reorganised as features
 * land; a moved or renamed section must not leave a dead link behind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The lines outside fenced code blocks. */
function prose(text: string): string[] {
  let fence = false;
  return text.split('\n').filter((line) => {
    if (line.startsWith('```')) {
      fence = !fence;
      return false;
    }
    return !fence;
  });
}

export function slugs(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text)) {
    const m = /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('README links', () => {
  const lines = prose(readme).join('\n');
  const anchors = slugs(readme);

  test('every #anchor names a heading', () => {
    const dead = [...lines.matchAll(/\]\(#([^)\s]+)\)/g)].map((m) => m[1]!).filter((a) => !anchors.has(a));
    expect(dead).toEqual([]);
  });

  test('every relative link names a file or directory of the repository', () => {
    const targets = [...lines.matchAll(/\]\((?!#|https?:|mailto:)([^)\s#]+)(#[^)\s]*)?\)/g)].map((m) => m[1]!);
    expect(targets.length).toBeGreaterThan(5);
    expect(targets.filter((t) => !existsSync(join(ROOT, t)))).toEqual([]);
  });

  test('the slugs are GitHub\'s', () => {
    expect([...slugs('## `--secret` forms\n## Config file: `secbuild.yml`\n## `secbuild secrets`, `doctor`, `clean`\n## What `--verify` searches\n## A\n## A\n')]).toEqual([
      '--secret-forms', 'config-file-secbuildyml', 'secbuild-secrets-doctor-clean', 'what---verify-searches', 'a', 'a-1',
    ]);
  });
});
