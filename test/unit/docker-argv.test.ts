/**
 * The pure docker argv builders (src/engines/docker/argv.ts). `--secret`
 * values are CSV records that buildx splits with Go's encoding/csv, so every
 * id and path must come back unchanged through the same split
 * (src/secrets/csv.ts); argv is never a shell string, and shellQuote (for
 * --dry-run and logs) must round-trip through a real `sh`.
 *
 * The builders are total: ids are checked where specs are parsed, and any
 * path is a valid CSV field once quoted. What must throw at this layer is the
 * other direction, a malformed record.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { dockerBuildArgv, secretFlags, shellQuote } from '../../src/engines/docker/argv.js';
import { splitCsv } from '../../src/secrets/csv.js';

const RD = '/dev/shm/secbuild-123-AbC123';

describe('secretFlags', () => {
  test.each<[string, string, string]>([
    ['tok', `${RD}/00-tok`, `id=tok,src=${RD}/00-tok`],
    ['a.b-c_d', `${RD}/01-a.b-c_d`, `id=a.b-c_d,src=${RD}/01-a.b-c_d`],
    // Spaces need no CSV quoting (argv is not a shell line).
    ['tok', '/tmp/with space/00-tok', 'id=tok,src=/tmp/with space/00-tok'],
    ['tok', '/tmp/a,b/00-tok', 'id=tok,"src=/tmp/a,b/00-tok"'],
    ['tok', '/tmp/a"b/00-tok', 'id=tok,"src=/tmp/a""b/00-tok"'],
    ['tok', '/tmp/"a,b"/00-tok', 'id=tok,"src=/tmp/""a,b""/00-tok"'],
    ['tok', '/tmp/new\nline/00-tok', 'id=tok,"src=/tmp/new\nline/00-tok"'],
    ["it's", `${RD}/00-it_s`, `id=it's,src=${RD}/00-it_s`],
    ['a,b', `${RD}/00-a_b`, `"id=a,b",src=${RD}/00-a_b`],
    ['a"b', `${RD}/00-a_b`, `"id=a""b",src=${RD}/00-a_b`],
  ])('id %j, path %j → %j', (id, path, value) => {
    expect(secretFlags([{ id, path }])).toEqual(['--secret', value]);
  });

  test.each<[string, string]>([
    ['tok', '/tmp/a,b/00-tok'],
    ['a,b', '/tmp/"q"/x'],
    ['"', '/tmp/,/"/,,""'],
    ['id with spaces', '/tmp/x y/z'],
    ['=', '/tmp/=/=='],
  ])('splitting id %j / path %j back as buildx does gives both unchanged', (id, path) => {
    const [, value] = secretFlags([{ id, path }]);
    expect(splitCsv(value!)).toEqual([`id=${id}`, `src=${path}`]);
  });

  test('one flag pair per file, in order; none for no files', () => {
    const files = [{ id: 'b', path: '/r/00-b' }, { id: 'a', path: '/r/01-a' }, { id: 'c', path: '/r/02-c' }];
    expect(secretFlags(files)).toEqual(['--secret', 'id=b,src=/r/00-b', '--secret', 'id=a,src=/r/01-a', '--secret', 'id=c,src=/r/02-c']);
    expect(secretFlags([])).toEqual([]);
  });

  test.each<[string, RegExp]>([
    ['id=tok,"src=/tmp/a', /unterminated double quote/],
    ['"id=tok', /unterminated double quote/],
    ['id=tok,src="/tmp/a""', /unterminated double quote/],
  ])('a malformed record %j is refused when split', (value, message) => {
    expect(() => splitCsv(value)).toThrow(message);
  });
});

describe('dockerBuildArgv', () => {
  const files = [{ id: 'tok', path: `${RD}/00-tok` }, { id: 'a,b', path: `${RD}/01-a_b` }];

  test.each<[string, readonly string[], string[]]>([
    ['no user args', [], ['build', '--secret', `id=tok,src=${RD}/00-tok`, '--secret', `"id=a,b",src=${RD}/01-a_b`]],
    ['a context only', ['.'], ['build', '--secret', `id=tok,src=${RD}/00-tok`, '--secret', `"id=a,b",src=${RD}/01-a_b`, '.']],
    [
      "docker's flags verbatim and in order",
      ['-t', 'x:1', '--target', 'final', '-f', 'a b/Dockerfile', '--build-arg', 'N=1,2', '--', 'ctx dir'],
      ['build', '--secret', `id=tok,src=${RD}/00-tok`, '--secret', `"id=a,b",src=${RD}/01-a_b`, '-t', 'x:1', '--target', 'final', '-f', 'a b/Dockerfile', '--build-arg', 'N=1,2', '--', 'ctx dir'],
    ],
    [
      "the user's own --secret after secbuild's",
      ['--secret', 'id=own,src=/etc/own', '.'],
      ['build', '--secret', `id=tok,src=${RD}/00-tok`, '--secret', `"id=a,b",src=${RD}/01-a_b`, '--secret', 'id=own,src=/etc/own', '.'],
    ],
  ])('%s', (_name, userArgs, argv) => {
    expect(dockerBuildArgv(files, userArgs)).toEqual(argv);
  });

  test('without files it is `build` and the user args', () => {
    expect(dockerBuildArgv([], ['-q', '.'])).toEqual(['build', '-q', '.']);
  });

  test('the inputs are not changed', () => {
    const userArgs = Object.freeze(['-t', 'x', '.']);
    const frozen = Object.freeze(files.map((f) => Object.freeze({ ...f })));
    expect(() => dockerBuildArgv(frozen, userArgs)).not.toThrow();
    expect(userArgs).toEqual(['-t', 'x', '.']);
  });
});

describe('shellQuote', () => {
  test.each<[string[], string]>([
    [['docker', 'build', '.'], 'docker build .'],
    [['--secret', 'id=tok,src=/dev/shm/x/00-tok'], '--secret id=tok,src=/dev/shm/x/00-tok'],
    [['-t', 'registry:5000/app@sha256', '+%'], '-t registry:5000/app@sha256 +%'],
    [['a b'], "'a b'"],
    [["it's"], "'it'\\''s'"],
    [[''], "''"],
    [['$HOME', '`id`', '$(id)'], "'$HOME' '`id`' '$(id)'"],
    [['*', '?', '~', '!', '#x', 'a;b', 'a|b', 'a&b', 'a>b'], "'*' '?' '~' '!' '#x' 'a;b' 'a|b' 'a&b' 'a>b'"],
    [['"id=a,b",src=/p'], `'"id=a,b",src=/p'`],
    [['new\nline', 'tab\there'], "'new\nline' 'tab\there'"],
    [["''"], "''\\'''\\'''"],
    [['\\'], "'\\'"],
  ])('%j → %s', (args, line) => {
    expect(shellQuote(args)).toBe(line);
  });

  test.each<[string[]]>([
    [['docker', 'build', '--secret', 'id=tok,"src=/tmp/a,b"', '-t', 'x', '.']],
    [["it's", 'a b', '', "''", '"', '\\', '\\\\n']],
    [['$HOME', '${PATH}', '`id`', '$(id)', '*', '?', '[a]', '~', '~root', '!', '#', 'a;b', 'a|b', 'a&b', '<x', '>x']],
    [['new\nline', 'tab\tthere', ' lead', 'trail ', 'ünïcødé', '🙂']],
  ])('round-trips through sh: %j', (args) => {
    const out = execFileSync('sh', ['-c', `printf '%s\\0' ${shellQuote(args)}`], { encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(out.split('\0').slice(0, -1)).toEqual(args);
  });
});
