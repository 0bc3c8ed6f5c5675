import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { findDefaultFiles, loadProject, normalizeProjectName } from '../../src/engines/compose/files.js';
import { interpolate, InterpolationError, parseDotenv } from '../../src/engines/compose/interpolate.js';
import { mergeValue } from '../../src/engines/compose/merge.js';
import { UsageError } from '../../src/util/errors.js';

const ENV: Record<string, string> = { FOO: 'first', EMPTY: '', BAR: 'b' };
const lookup = (n: string) => ENV[n];

describe('interpolate: compose-go template semantics', () => {
  test.each<[string, string, string]>([
    ['no variables', 'plain text', 'plain text'],
    ['$$ is a literal $', 'a$$b', 'a$b'],
    ['$$VAR is not expanded', '$$FOO', '$FOO'],
    ['$VAR', 'x $FOO y', 'x first y'],
    ['${VAR}', '${FOO}bar${BAR}', 'firstbarb'],
    ['unset is empty', '[${UNSET}]', '[]'],
    ['${VAR:-w} set', '${FOO:-d}', 'first'],
    ['${VAR:-w} empty', '${EMPTY:-d}', 'd'],
    ['${VAR:-w} unset', '${UNSET:-d}', 'd'],
    ['${VAR-w} empty stays empty', '[${EMPTY-d}]', '[]'],
    ['${VAR-w} unset', '${UNSET-d}', 'd'],
    ['nested default', '${UNSET:-${FOO}}', 'first'],
    ['nested twice', '${UNSET:-${UNSET2:-deep}}', 'deep'],
    ['braces inside a default', '${UNSET:-{a}}', '{a}'],
    ['default with spaces and colons', '${UNSET:-a b:c}', 'a b:c'],
    ['${VAR:+w} set', '${FOO:+alt}', 'alt'],
    ['${VAR:+w} empty', '[${EMPTY:+alt}]', '[]'],
    ['${VAR+w} empty', '${EMPTY+alt}', 'alt'],
    ['${VAR+w} unset', '[${UNSET+alt}]', '[]'],
    ['${VAR?err} set', '${FOO?err}', 'first'],
    ['${VAR?err} empty is fine', '[${EMPTY?err}]', '[]'],
    ['${VAR:?err} set', '${FOO:?err}', 'first'],
    ['a lone $ stays', 'cost: 5$ or $ 1', 'cost: 5$ or $ 1'],
    ['$1 stays', 'x$1', 'x$1'],
    ['lower-case names', '${foo:-low}', 'low'],
  ])('%s: %s', (_name, text, want) => {
    expect(interpolate(text, lookup).value).toBe(want);
  });

  test('reports the variables used and the unset plain ones', () => {
    const r = interpolate('$FOO ${UNSET} ${GONE:-x} $FOO', lookup);
    expect(r.used).toEqual(['FOO', 'UNSET', 'GONE']);
    expect(r.unset).toEqual(['UNSET']);
  });

  test.each<[string, RegExp]>([
    ['${UNSET:?must be set}', /required variable UNSET is missing a value: must be set/],
    ['${EMPTY:?}', /required variable EMPTY is missing a value$/],
    ['${UNSET?no}', /required variable UNSET is missing a value: no/],
    ['${UNSET:?${FOO} needed}', /: first needed/],
    ['${}', /invalid interpolation "\$\{\}"/],
    ['${FOO', /invalid interpolation "\$\{FOO"/],
    ['${1A}', /invalid interpolation/],
    ['${FOO:x}', /invalid interpolation/],
    ['${FO O}', /invalid interpolation/],
  ])('%s fails', (text, message) => {
    expect(() => interpolate(text, lookup)).toThrow(InterpolationError);
    expect(() => interpolate(text, lookup)).toThrow(message);
  });
});

describe('parseDotenv', () => {
  test('the forms real .env files use', () => {
    const text = [
      '# comment',
      '',
      'A=1',
      'export B=two words  # a comment',
      "C='single $A ${A}'",
      'D="double ${A}\\n$$x \\"q\\""',
      'E=${A}-${OUTSIDE}',
      'F=',
      'G="multi',
      'line"',
      'H=a#b',
      'OUTSIDE',
    ].join('\n');
    const vars = parseDotenv(text, (n) => ({ OUTSIDE: 'os' })[n]);
    expect(Object.fromEntries(vars)).toEqual({
      A: '1', B: 'two words', C: 'single $A ${A}', D: 'double 1\n$x "q"', E: '1-os', F: '', G: 'multi\nline', H: 'a#b', OUTSIDE: 'os',
    });
  });

  test.each([['KEY VALUE'], ['1A=x'], ['A="open']])('%s is an error with a line number', (text) => {
    expect(() => parseDotenv(text, () => undefined)).toThrow(/line 1/);
  });
});

describe('mergeValue: compose-go override rules', () => {
  const merge = (a: unknown, b: unknown, tags: Array<[string, 'reset' | 'override']> = []) =>
    mergeValue(a, b, [], new Map(tags.map(([p, t]) => [p.split('.').join('\0'), t])));
  const svc = (build: unknown, extra: Record<string, unknown> = {}) => ({ services: { app: { build, ...extra } } });

  test.each<[string, unknown, unknown, unknown]>([
    ['scalars are replaced, new keys added', { a: 1, b: 2 }, { b: 3, c: 4 }, { a: 1, b: 3, c: 4 }],
    ['null keeps the earlier value', { a: 1 }, { a: null }, { a: 1 }],
    ['sequences append', { l: [1] }, { l: [2] }, { l: [1, 2] }],
    ['build string becomes context', svc('./a'), svc({ dockerfile: 'D' }), svc({ context: './a', dockerfile: 'D' })],
    ['build context replaced', svc({ context: 'a', target: 't' }), svc('b'), svc({ context: 'b', target: 't' })],
    ['build.args map + list: one per key, later wins', svc({ args: { A: '1', B: '2' } }), svc({ args: ['B=3', 'C'] }), svc({ args: ['A=1', 'B=3', 'C'] })],
    ['build.labels', svc({ labels: ['x=1'] }), svc({ labels: { x: '2', y: '3' } }), svc({ labels: ['x=2', 'y=3'] })],
    ['build.extra_hosts deduplicated', svc({ extra_hosts: ['a:1'] }), svc({ extra_hosts: ['a:1', 'b:2'] }), svc({ extra_hosts: ['a:1', 'b:2'] })],
    ['build.secrets and cache_from append', svc({ secrets: ['a'], cache_from: ['x'] }), svc({ secrets: [{ source: 'b' }], cache_from: ['y'] }), svc({ secrets: ['a', { source: 'b' }], cache_from: ['x', 'y'] })],
    [
      'depends_on list and map merge',
      svc('.', { depends_on: ['db'] }),
      svc('.', { depends_on: { cache: { condition: 'service_healthy' } } }),
      svc({ context: '.' }, { depends_on: { db: { condition: 'service_started', required: true }, cache: { condition: 'service_healthy' } } }),
    ],
  ])('%s', (_name, a, b, want) => {
    expect(merge(a, b)).toEqual(want);
  });

  test('!reset removes, !override replaces', () => {
    const base = svc({ context: '.', args: { A: '1' }, secrets: ['a', 'b'] });
    const over = svc({ args: null, secrets: ['c'] });
    expect(merge(base, over, [['services.app.build.args', 'reset'], ['services.app.build.secrets', 'override']])).toEqual(svc({ context: '.', secrets: ['c'] }));
  });
});

describe('normalizeProjectName', () => {
  test.each([['My App', 'myapp'], ['_x-Y.z', 'x-yz'], ['---', ''], ['secbuild-example', 'secbuild-example']])('%s → %s', (a, b) => {
    expect(normalizeProjectName(a)).toBe(b);
  });
});

describe('loadProject: files, .env, interpolation, merge, project name', () => {
  const root = mkdtempSync(join(tmpdir(), 'secbuild-compose-unit-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const project = (files: Record<string, string>) => {
    const dir = join(root, `My_Proj.${n++}`);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };
  const opts = (o: Partial<Parameters<typeof loadProject>[0]> = {}) => ({ files: [], envFiles: [], ...o });

  test('default lookup: compose.yaml wins over docker-compose.yml, the override file is added, parents are searched', async () => {
    const dir = project({
      'compose.yaml': 'services: { a: { build: . } }\n',
      'docker-compose.yml': 'services: { ignored: { build: . } }\n',
      'compose.override.yml': 'services: { a: { image: custom } }\n',
      'sub/deeper/.keep': '',
    });
    expect(findDefaultFiles(join(dir, 'sub', 'deeper'))).toEqual([join(dir, 'compose.yaml'), join(dir, 'compose.override.yml')]);
    const p = await loadProject(opts(), join(dir, 'sub', 'deeper'), {});
    expect(p.files).toEqual([join(dir, 'compose.yaml'), join(dir, 'compose.override.yml')]);
    expect(p.dir).toBe(dir);
    expect(p.model).toEqual({ services: { a: { build: '.', image: 'custom' } } });
    expect(p.name).toMatch(/^my_proj\d+$/);
  });

  test('-f files merge in order; paths are relative to the first file; COMPOSE_FILE is ignored', async () => {
    const dir = project({ 'base/c.yml': 'services: { a: { build: { context: x, args: { A: "1" } } } }\n', 'ci.yml': 'services: { a: { build: { args: [A=2] } } }\n' });
    const p = await loadProject(opts({ files: ['base/c.yml', 'ci.yml'] }), dir, { COMPOSE_FILE: 'nope.yml' });
    expect(p.dir).toBe(join(dir, 'base'));
    expect(p.model.services).toEqual({ a: { build: { context: 'x', args: ['A=2'] } } });
    expect(p.serviceFiles.get('a')).toEqual(['base/c.yml', 'ci.yml']);
  });

  test('COMPOSE_FILE with COMPOSE_PATH_SEPARATOR', async () => {
    const dir = project({ 'a.yml': 'services: { a: { build: . } }\n', 'b.yml': 'services: { b: { build: . } }\n' });
    const p = await loadProject(opts(), dir, { COMPOSE_FILE: 'a.yml;b.yml', COMPOSE_PATH_SEPARATOR: ';' });
    expect(Object.keys(p.model.services as object)).toEqual(['a', 'b']);
  });

  test('.env feeds interpolation and COMPOSE_PROJECT_NAME; the process environment wins', async () => {
    const dir = project({
      'compose.yaml': 'services: { a: { image: "${REG}/${IMG:-app}:${TAG}", build: { context: ., args: { X: "$$HOME" } } } }\n',
      '.env': 'REG=registry.local\nTAG=from-dotenv\nCOMPOSE_PROJECT_NAME=fromenv\n',
    });
    const p = await loadProject(opts(), dir, { TAG: 'from-shell' });
    expect((p.model.services as Record<string, Record<string, unknown>>).a!.image).toBe('registry.local/app:from-shell');
    expect((p.model.services as Record<string, Record<string, { args: unknown }>>).a!.build!.args).toEqual({ X: '$HOME' });
    expect(p.name).toBe('fromenv');
    expect(p.usedVars.get('services.a.image')?.vars).toEqual(['REG', 'IMG', 'TAG']);
  });

  test('--env-file replaces .env; a missing one is an error', async () => {
    const dir = project({ 'compose.yaml': 'name: ${N}\nservices: {}\n', '.env': 'N=dotenv\n', 'ci.env': 'N=ci\n' });
    expect((await loadProject(opts({ envFiles: ['ci.env'] }), dir, {})).name).toBe('ci');
    await expect(loadProject(opts({ envFiles: ['none.env'] }), dir, {})).rejects.toThrow(/--env-file none.env: cannot read it \(ENOENT\)/);
  });

  test('a compose file or --env-file without end (/dev/zero) is refused at 1 MiB, not read whole (faults item 4)', async () => {
    const dir = project({ 'compose.yaml': 'services: {}\n' });
    await expect(loadProject(opts({ files: ['/dev/zero'] }), dir, {})).rejects.toThrow(/compose file \/dev\/zero is larger than 1 MiB/);
    await expect(loadProject(opts({ envFiles: ['/dev/zero'] }), dir, {})).rejects.toThrow(/--env-file \/dev\/zero is larger than 1 MiB/);
  });

  test('project name: -p, then COMPOSE_PROJECT_NAME, then the last name:, then the directory', async () => {
    const dir = project({ 'a.yml': 'name: First\n', 'b.yml': 'name: Second_One\n' });
    const files = ['a.yml', 'b.yml'];
    expect((await loadProject(opts({ files, projectName: 'cli' }), dir, { COMPOSE_PROJECT_NAME: 'env' })).name).toBe('cli');
    expect((await loadProject(opts({ files }), dir, { COMPOSE_PROJECT_NAME: 'env' })).name).toBe('env');
    expect((await loadProject(opts({ files }), dir, {})).name).toBe('second_one');
    await expect(loadProject(opts({ files, projectName: 'Bad Name' }), dir, {})).rejects.toThrow(/-p "Bad Name" is not a valid project name.*"badname"/);
  });

  test.each<[string, Record<string, string>, RegExp]>([
    ['no file', { 'x.txt': '' }, /no compose file in .* or its parents \(looked for compose.yaml, compose.yml, docker-compose.yml, docker-compose.yaml\); pass -f FILE/],
    ['bad YAML', { 'compose.yaml': 'services: [\n' }, /compose.yaml:\d+: not valid YAML/],
    ['a list at the top', { 'compose.yaml': '- a\n' }, /compose.yaml: the top level must be a mapping/],
    ['a required variable', { 'compose.yaml': 'services: { a: { image: "${NEED:?set NEED}" } }\n' }, /compose.yaml: services.a.image: required variable NEED is missing a value: set NEED; set the variable/],
    ['an invalid template', { 'compose.yaml': 'services: { a: { image: "${}" } }\n' }, /compose.yaml: services.a.image: invalid interpolation "\$\{\}"/],
  ])('%s: UsageError naming the file and key', async (_name, files, message) => {
    const dir = project(files);
    const err = await loadProject(opts(), dir, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  test('!reset and !override in a later file', async () => {
    const dir = project({
      'a.yml': 'services:\n  a:\n    build:\n      context: .\n      args: { A: "1" }\n      secrets: [x, y]\n',
      'b.yml': 'services:\n  a:\n    build:\n      args: !reset {}\n      secrets: !override [z]\n',
    });
    const p = await loadProject(opts({ files: ['a.yml', 'b.yml'] }), dir, {});
    expect((p.model.services as Record<string, unknown>).a).toEqual({ build: { context: '.', secrets: ['z'] } });
  });
});
