import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { contextPath, copiedBy, credentialKind, globRegExp } from '../../src/check/credentials.js';
import { contextEntries, credentialFilesIn, loadIgnore, resolveInContext } from '../../src/check/context.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A context directory holding `files` (path → content; content is never a real secret). */
function ctx(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'secbuild-check-ctx-'));
  dirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

const CREDS = ['.env', '.env.example', '.netrc', 'app/.npmrc', 'app/sub/.npmrc', 'secrets/keep/.npmrc', 'secrets/id_rsa', 'home/.docker/config.json', 'home/.aws/credentials', 'x/.pypirc', '.git-credentials', 'keys/id_ed25519', 'node_modules/pkg/.npmrc', 'src/index.js'];
const ALL_CREDS = CREDS.filter((f) => f !== '.env.example' && f !== 'src/index.js').sort();

describe('credentialFilesIn: .dockerignore applied with Docker rules', () => {
  test.each<[string, string | null, string[]]>([
    ['no .dockerignore: every credential file', null, ALL_CREDS],
    ['negation re-includes a template, the real .env stays out', '.env*\n!.env.example\n', ALL_CREDS.filter((f) => f !== '.env')],
    ['**/.npmrc at any depth', '**/.npmrc\n', ALL_CREDS.filter((f) => !f.endsWith('.npmrc'))],
    ['a bare name matches at the root only', '.npmrc\nid_rsa\n', ALL_CREDS],
    ['directory excludes, with and without slashes', 'secrets/\n/node_modules\nhome\n', ALL_CREDS.filter((f) => !/^(secrets|node_modules|home)\//.test(f))],
    ['negation inside an excluded directory re-includes the file', 'secrets\n!secrets/keep/.npmrc\n', ALL_CREDS.filter((f) => f !== 'secrets/id_rsa')],
    ['* then !dir keeps only that dir', '*\n!app\n', ['app/.npmrc', 'app/sub/.npmrc']],
    ['later patterns win', '**/.npmrc\n!app/**/.npmrc\n', ALL_CREDS.filter((f) => !f.endsWith('.npmrc') || f.startsWith('app/'))],
    ['comments and blank lines are not patterns', '# .env\n\n  \n', ALL_CREDS],
    ['matching is case-sensitive, as in Docker', '.ENV\n**/.NPMRC\n', ALL_CREDS],
    ['? and [] classes', '.ne?rc\nkeys/id_[a-z]*\n', ALL_CREDS.filter((f) => f !== '.netrc' && f !== 'keys/id_ed25519')],
  ])('%s', async (_name, ignore, want) => {
    const dir = ctx(Object.fromEntries([...CREDS.map((f) => [f, 'placeholder']), ...(ignore === null ? [] : [['.dockerignore', ignore]])]));
    expect(credentialFilesIn(dir, await loadIgnore(dir, join(dir, 'Dockerfile')))).toEqual(want);
  });

  test('<Dockerfile>.dockerignore next to the Dockerfile replaces the context .dockerignore', async () => {
    const dir = ctx({ '.env': 'x', '.netrc': 'x', '.dockerignore': '.env\n', 'build/app.Dockerfile.dockerignore': '.netrc\n' });
    const rules = await loadIgnore(dir, join(dir, 'build/app.Dockerfile'));
    expect(rules.file).toBe(join(dir, 'build/app.Dockerfile.dockerignore'));
    expect(credentialFilesIn(dir, rules)).toEqual(['.env']);
    expect(credentialFilesIn(dir, await loadIgnore(dir, join(dir, 'Dockerfile')))).toEqual(['.netrc']);
  });

  test('a .dockerignore without end (a symlink to /dev/zero) is read to 1 MiB + 1 byte and refused in one sentence', async () => {
    const dir = ctx({});
    symlinkSync('/dev/zero', join(dir, '.dockerignore'));
    await expect(loadIgnore(dir, undefined)).rejects.toThrow(
      `ignore file ${join(dir, '.dockerignore')} is larger than 1 MiB; shorten it (secbuild reads at most 1 MiB of it, as of a Dockerfile).`,
    );
  });

  test('a symlink is sent as a link, not its target: not reported, not followed', async () => {
    const dir = ctx({ 'real/.npmrc': 'x', '.dockerignore': 'real\n' });
    symlinkSync(join(dir, 'real/.npmrc'), join(dir, '.npmrc'));
    symlinkSync(join(dir, 'real'), join(dir, 'linked'));
    expect(credentialFilesIn(dir, await loadIgnore(dir, undefined))).toEqual([]);
  });
});

describe('symlinks: listed by the walk, followed by resolveInContext as BuildKit\'s COPY does', () => {
  test('contextEntries lists the symlinks the builder receives (not followed, .dockerignore applied)', async () => {
    const dir = ctx({ 'real/.npmrc': 'x', 'skip/x': 'x', '.dockerignore': 'skip\nignored-link\n' });
    symlinkSync('real/.npmrc', join(dir, 'config.txt'));
    symlinkSync('real', join(dir, 'linked'));
    symlinkSync('../.npmrc', join(dir, 'real/up'));
    symlinkSync('.npmrc', join(dir, 'ignored-link'));
    symlinkSync('.npmrc', join(dir, 'skip/inside'));
    expect(contextEntries(dir, await loadIgnore(dir, undefined))).toEqual({ files: ['real/.npmrc'], links: ['config.txt', 'linked', 'real/up'] });
  });

  test.each<[string, Record<string, string>, string, string | undefined]>([
    ['no symlink: as given', {}, 'a/b/c', 'a/b/c'],
    ['a relative link', { l: 'real/.npmrc' }, 'l', 'real/.npmrc'],
    ['a link in the middle of the path', { d: 'real' }, 'd/.npmrc', 'real/.npmrc'],
    ['a link relative to its own directory', { 'x/l': '../real/.npmrc' }, 'x/l', 'real/.npmrc'],
    ['an absolute target starts at the context root', { l: '/real/.npmrc' }, 'l', 'real/.npmrc'],
    ['.. stops at the context root', { l: '../../../real/.npmrc' }, 'l', 'real/.npmrc'],
    ['. and .. in the path itself', {}, './real/../real/.npmrc', 'real/.npmrc'],
    ['a chain', { a: 'b', b: 'c/d', c: 'real' }, 'a', 'real/d'],
    ['a dangling link: its target, kept as it is', { l: 'gone/x' }, 'l', 'gone/x'],
    ['a loop', { a: 'b', b: 'a' }, 'a', undefined],
    ['a link to the root', { l: '/' }, 'l/.npmrc', '.npmrc'],
  ])('resolveInContext: %s', (_name, links, rel, want) => {
    const dir = ctx({ 'real/.npmrc': 'x', '.npmrc': 'x' });
    for (const [path, target] of Object.entries(links)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      symlinkSync(target, join(dir, path));
    }
    expect(resolveInContext(dir, rel)).toBe(want);
  });
});

describe('credential files and COPY sources', () => {
  test.each<[string, string | undefined]>([
    ['.npmrc', '.npmrc'],
    ['a/b/.netrc', '.netrc'],
    ['.docker/config.json', '.docker/config.json'],
    ['home/.aws/credentials', '.aws/credentials'],
    ['config.json', undefined],
    ['credentials', undefined],
    ['.env.example', undefined],
    ['id_rsa.pub', undefined],
    ['x.npmrc', undefined],
  ])('credentialKind(%s)', (rel, want) => {
    expect(credentialKind(rel)?.name).toBe(want);
  });

  test.each<[string, string]>([
    ['.', ''],
    ['/', ''],
    ['./', ''],
    ['./a/../b/', 'b'],
    ['/app/.npmrc', 'app/.npmrc'],
    ['../../etc/.netrc', 'etc/.netrc'],
  ])('contextPath(%s) = "%s"', (source, want) => {
    expect(contextPath(source)).toBe(want);
  });

  test.each<[string, string, boolean]>([
    ['*.json', 'a.json', true],
    ['*.json', 'd/a.json', false],
    ['.n?rc', '.npmrc', false],
    ['.n??rc', '.npmrc', true],
    ['id_[er]*', 'id_rsa', true],
    ['id_[^r]*', 'id_rsa', false],
    ['a\\*', 'a*', true],
  ])('glob %s vs %s', (pattern, path, want) => {
    expect(globRegExp(pattern)!.test(path)).toBe(want);
  });

  test('malformed globs match nothing', () => {
    expect(globRegExp('a[')).toBeNull();
    expect(globRegExp('a\\')).toBeNull();
  });

  const files = ['.env', 'app/.npmrc', 'app/sub/.netrc', 'apps/.npmrc', 'conf/.docker/config.json'];
  test.each<[string, string[]]>([
    ['.', files],
    ['./', files],
    ['app', ['app/.npmrc', 'app/sub/.netrc']],
    ['app/', ['app/.npmrc', 'app/sub/.netrc']],
    ['app/sub/.netrc', ['app/sub/.netrc']],
    ['ap*', ['app/.npmrc', 'app/sub/.netrc', 'apps/.npmrc']],
    ['*/.npmrc', ['app/.npmrc', 'apps/.npmrc']],
    ['conf/.docker', ['conf/.docker/config.json']],
    ['src', []],
  ])('copiedBy(%s)', (source, want) => {
    expect(copiedBy(source, files)).toEqual(want);
  });
});
