/**
 * examples/ci (issue 11 item 7): the CI jobs install secbuild from a checkout
 * of its repository, never from the npm registry (where secbuild@0.1.0 is a
 * 404 until it is published). Read from the files as shipped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../helpers/cli.js';

describe('examples/ci install secbuild from a checkout', () => {
  test.each([
    ['github-actions.yml', /npm install --global \.\/\.secbuild$/m],
    ['gitlab-ci.yml', /npm install --global \/tmp\/secbuild$/m],
  ])('%s', async (file, install) => {
    const text = readFileSync(join(ROOT, 'examples', 'ci', file), 'utf8');
    const { parse } = await import('yaml');
    const steps = JSON.stringify(parse(text));
    expect(steps).not.toMatch(/npm (install|i) [^"]*\bsecbuild@/);
    expect(text).toMatch(install);
    expect(text).toMatch(/npm ci --prefix /);
  });
});
