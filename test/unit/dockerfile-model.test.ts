import { describe, expect, test } from 'vitest';
import { parseDockerfile, type DockerfileInput } from '../../src/dockerfile/model.js';
import { UsageError } from '../../src/util/errors.js';

const P = 'Dockerfile';
const df = (...lines: string[]) => lines.join('\n') + '\n';
const model = (dockerfile: string, opts: Partial<DockerfileInput> = {}) => parseDockerfile({ dockerfile, path: P, ...opts });
/** The reached stages by label, in order. */
const reached = async (dockerfile: string, target?: string) => {
  const m = await model(dockerfile, { target });
  return [...m.reached].sort((a, b) => a - b).map((i) => m.stages[i]!.label);
};

describe('stages and what a build reaches', () => {
  test.each<[string, string, string | undefined, string[]]>([
    ['no target: the last stage alone', df('FROM a AS one', 'FROM a'), undefined, ['1']],
    ['FROM <stage>', df('FROM a AS base', 'FROM base'), undefined, ['base', '1']],
    ['FROM <stage>, transitively', df('FROM a AS base', 'FROM base AS mid', 'FROM a AS other', 'FROM mid'), undefined, ['base', 'mid', '3']],
    ['FROM names a stage defined below: an image, not a stage', df('FROM later AS first', 'FROM a AS later'), 'first', ['first']],
    ['COPY --from by name, case-insensitively', df('FROM a AS Tools', 'FROM a', 'COPY --from=TOOLS /x /x'), undefined, ['tools', '1']],
    ['COPY --from by index', df('FROM a', 'FROM a AS x', 'FROM a', 'COPY --from=1 /x /x'), undefined, ['x', '2']],
    ['COPY --from an image is no stage', df('FROM a AS x', 'FROM a', 'COPY --from=alpine:3 /x /x'), undefined, ['1']],
    ['COPY --from with a variable is not followed', df('FROM a AS x', 'FROM a', 'ARG S=x', 'COPY --from=$S /x /x'), undefined, ['1']],
    ['COPY --from an index out of range', df('FROM a', 'FROM a', 'COPY --from=7 /x /x'), undefined, ['1']],
    ['RUN --mount from= by name', df('FROM a AS src', 'FROM a', 'RUN --mount=type=bind,from=src,target=/s true'), undefined, ['src', '1']],
    ['RUN --mount from= by index is an image, not a stage', df('FROM a', 'FROM a', 'RUN --mount=type=bind,from=0,target=/s true'), undefined, ['1']],
    ['--target picks the stage and what it reads', df('FROM a AS dep', 'FROM a AS t', 'COPY --from=dep / /', 'FROM a'), 'T', ['dep', 't']],
  ])('%s', async (_name, dockerfile, target, want) => {
    expect(await reached(dockerfile, target)).toEqual(want);
  });

  test('stage fields: name, label, line, parent, deps', async () => {
    const m = await model(df('FROM a AS base', 'FROM a', 'FROM base AS App', 'COPY --from=1 /x /x', 'RUN --mount=from=base,target=/b true'));
    expect(m.stages.map(({ index, name, label, line, parent, deps }) => ({ index, name, label, line, parent, deps }))).toEqual([
      { index: 0, name: 'base', label: 'base', line: 1, parent: undefined, deps: [] },
      { index: 1, name: '', label: '1', line: 2, parent: undefined, deps: [] },
      { index: 2, name: 'app', label: 'app', line: 3, parent: 0, deps: [1, 0] },
    ]);
    expect(m.root).toBe(2);
  });

  test.each<[string, string, string, RegExp]>([
    ['lists the named stages', df('FROM a AS deps', 'FROM a', 'FROM a AS build'), 'nope', /^Dockerfile: --target "nope" names no stage; its stages are: deps, build\.$/],
    ['no named stages', df('FROM a'), 'x', /^Dockerfile: --target "x" names no stage; it has no named stages \(add "AS name" to a FROM line\)\.$/],
    ['no FROM at all', df('ARG X=1'), 'x', /^Dockerfile has no FROM instruction, so it has no stage "x"; check -f and --target\.$/],
    ['an index is not a target', df('FROM a AS x', 'FROM a'), '0', /names no stage/],
  ])('unknown --target: %s', async (_name, dockerfile, target, want) => {
    const err = await model(dockerfile, { target }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(want);
  });

  test('no FROM and no target: no stages, a note', async () => {
    const m = await model(df('ARG X=1'));
    expect([m.stages, m.root, [...m.reached], m.notes]).toEqual([[], -1, [], ['Dockerfile: no FROM instruction; no secret mounts to check']]);
  });
});

describe('steps', () => {
  test('keyword, lines, stage, flags, text and JSON form', async () => {
    const m = await model(df('ARG V=1', 'FROM --platform=linux/amd64 a', 'RUN --mount=type=cache,target=/c \\', '  --network=none echo hi', 'CMD ["run", "x"]', 'RUN <<EOF', 'echo', 'EOF'));
    expect(m.steps.map(({ keyword, start, end, stage, flags, text, json }) => ({ keyword, start, end, stage, flags: flags.map((f) => `${f.name}=${f.value}@${f.line}`), text: text.trim(), json }))).toEqual([
      { keyword: 'ARG', start: 1, end: 1, stage: -1, flags: [], text: 'V=1', json: null },
      { keyword: 'FROM', start: 2, end: 2, stage: 0, flags: ['platform=linux/amd64@2'], text: 'a', json: null },
      { keyword: 'RUN', start: 3, end: 4, stage: 0, flags: ['mount=type=cache,target=/c@3', 'network=none@4'], text: 'echo hi', json: null },
      { keyword: 'CMD', start: 5, end: 5, stage: 0, flags: [], text: '["run", "x"]', json: ['run', 'x'] },
      { keyword: 'RUN', start: 6, end: 8, stage: 0, flags: [], text: '<<EOF\necho\nEOF', json: null },
    ]);
  });

  test('RUN mounts of every type, type bind by default, targets expanded', async () => {
    const m = await model(df('FROM a', 'ARG C=/cache', 'RUN --mount=type=cache,target=$C --mount=target=/b --mount=type=TMPFS,dst=/t --mount=type=secret,id=s true'));
    expect(m.steps[2]!.mounts).toEqual([
      { type: 'cache', target: '/cache', line: 3 },
      { type: 'bind', target: '/b', line: 3 },
      { type: 'tmpfs', target: '/t', line: 3 },
      { type: 'secret', target: '', line: 3 },
    ]);
  });

  test.each<[string, string, { from: string | null; sources: string[]; context: string[]; excludes: string[] }]>([
    ['shell form, several sources, quotes removed', 'COPY a "b" \'c\' ./d/ /dst/', { from: null, sources: ['a', 'b', 'c', './d/'], context: ['a', 'b', 'c', './d/'], excludes: [] }],
    ['JSON form', 'COPY ["a b", "c", "/dst"]', { from: null, sources: ['a b', 'c'], context: ['a b', 'c'], excludes: [] }],
    ['--exclude patterns', 'COPY --exclude=*.md --exclude=.env . /app', { from: null, sources: ['.'], context: ['.'], excludes: ['*.md', '.env'] }],
    ['--from: not the context', 'COPY --from=build /app /app', { from: 'build', sources: ['/app'], context: [], excludes: [] }],
    ['ADD URL and git sources', 'ADD https://example.com/x git@github.com:o/r.git local /dst', { from: null, sources: ['https://example.com/x', 'git@github.com:o/r.git', 'local'], context: ['local'], excludes: [] }],
    ['heredoc: not the context, its body not words', 'COPY <<EOF /f\nx y\nEOF', { from: null, sources: ['<<EOF'], context: [], excludes: [] }],
  ])('COPY/ADD sources: %s', async (_name, line, want) => {
    const m = await model(df('FROM a', line));
    expect(m.steps[1]!.copy).toEqual(want);
  });
});

describe('ARG and ENV in scope', () => {
  const text = df(
    'ARG G=global', //           1
    'FROM a AS base', //         2
    'ARG G', //                  3
    'ENV E="${G}-env"', //       4
    'FROM base', //              5
    'ARG L', //                  6
    'ENV E=${E}2 U=$UNKNOWN', // 7
  );
  test.each<[string, Record<string, string> | undefined, number, Record<string, string | null>]>([
    ['global ARG before FROM', undefined, 0, { G: 'global' }],
    ['a stage starts empty', undefined, 1, {}],
    ['redeclared global ARG', undefined, 2, { G: 'global' }],
    ['ENV expands ARG', undefined, 3, { G: 'global', E: 'global-env' }],
    ['a child stage inherits', undefined, 4, { G: 'global', E: 'global-env' }],
    ['ARG without a value and no build-arg: declared, unset', undefined, 5, { G: 'global', E: 'global-env', L: null }],
    ['ENV of an unknown variable: unknown from there on', undefined, 6, { G: 'global', E: 'global-env2', L: null }],
    ['build-args win', { G: 'cli', L: 'l' }, 6, { G: 'cli', E: 'cli-env2', L: 'l' }],
  ])('%s', async (_name, buildArgs, step, want) => {
    const m = await model(text, { buildArgs });
    expect(Object.fromEntries(m.steps[step]!.vars)).toEqual(want);
  });

  test('a later ARG does not change the scope an earlier step saw', async () => {
    const m = await model(df('FROM a', 'ARG X=1', 'RUN true', 'ARG X=2'));
    expect([m.steps[2]!.vars.get('X'), m.steps[3]!.vars.get('X'), m.stages[0]!.vars.get('X')]).toEqual(['1', '2', '2']);
  });
});
