/**
 * The one child environment builder (src/run/env.ts): scrubEnv removes the
 * variables secrets are read from and SECBUILD_CACHE_KEY always, and no other
 * module can make a ChildEnv (no cast to the branded type outside env.ts).
 * Every command × every child it starts: test/cli/child-env.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT, sources } from '../helpers/source-files.js';
import { CACHE_KEY_VAR, minimalEnv, scrubEnv, withVars } from '../../src/run/env.js';



describe('child environment', () => {
  const env = { PATH: '/bin', HOME: '/h', SRC: 'v', [CACHE_KEY_VAR]: 'k'.repeat(64), UNSET: undefined };

  test.each([
    ['no secret source', new Set<string>(), { PATH: '/bin', HOME: '/h', SRC: 'v' }],
    ['SRC a secret source', new Set(['SRC']), { PATH: '/bin', HOME: '/h' }],
  ])('scrubEnv with %s removes SECBUILD_CACHE_KEY and unset entries', (_name, sensitive, want) => {
    expect({ ...scrubEnv(env, sensitive) }).toEqual(want);
  });

  test('minimalEnv is PATH alone; withVars adds and removes on a ChildEnv', () => {
    expect({ ...minimalEnv(env) }).toEqual({ PATH: '/bin' });
    expect({ ...withVars(scrubEnv(env, new Set()), { A: '1', HOME: undefined }) }).toEqual({ PATH: '/bin', SRC: 'v', A: '1' });
  });

  test('no module but src/run/env.ts makes a ChildEnv by a cast', () => {
    const casts = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'providers'))]
      .filter((f) => /as\s+(unknown\s+as\s+)?ChildEnv\b/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(casts).toEqual(['src/run/env.ts']);
  });
});
