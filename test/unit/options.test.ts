import { describe, expect, test } from 'vitest';
import { DOCKER_BUILD_FLAGS, DOCKER_VALUE_OPTIONS } from '../../src/args/docker-flags.js';
import { parseOptions, type OptionLoop, type OptionSpec } from '../../src/args/options.js';
import { OWN_OPTIONS } from '../../src/args/own.js';
import { UsageError } from '../../src/util/errors.js';

const TABLE: readonly OptionSpec[] = [
  { name: '--tag', short: '-t', value: 'NAME', repeatable: true, key: 'tags' },
  { name: '--config', value: 'PATH', key: 'config' },
  { name: '--dry-run', key: 'dryRun' },
  { name: '--quiet', short: '-q', key: 'quiet' },
];

/** Every callback as one line, in the order the loop made them. */
function events(argv: string[], loop: Partial<OptionLoop<OptionSpec>> = {}): string[] {
  const seen: string[] = [];
  parseOptions(argv, {
    command: 'secbuild test',
    options: TABLE,
    option: ({ spec, flag, value, words }) => seen.push(`${spec.key} ${flag}=${value ?? '(switch)'} ${JSON.stringify(words)}`),
    unknown: (word, name, inline) => seen.push(`unknown ${word} ${name} ${inline ?? '-'}`),
    positional: (word) => seen.push(`positional ${word}`),
    ...loop,
  });
  return seen;
}

describe('parseOptions: what each word becomes', () => {
  test.each<[string, string[], string[]]>([
    ['--x v', ['--config', 'a.yml'], ['config --config=a.yml ["--config","a.yml"]']],
    ['--x=v', ['--config=a.yml'], ['config --config=a.yml ["--config=a.yml"]']],
    ['--x=v keeps later =', ['--config=a=b'], ['config --config=a=b ["--config=a=b"]']],
    ['--x= gives an empty value', ['--config='], ['config --config= ["--config="]']],
    ['--x takes the next word even when it looks like a flag', ['--config', '--dry-run'], ['config --config=--dry-run ["--config","--dry-run"]']],
    ['-x v', ['-t', 'app'], ['tags -t=app ["-t","app"]']],
    ['-xv', ['-tapp'], ['tags -t=app ["-tapp"]']],
    ['-x=v', ['-t=app'], ['tags -t=app ["-t=app"]']],
    ['the long name of a short', ['--tag', 'app'], ['tags --tag=app ["--tag","app"]']],
    ['a switch', ['--dry-run'], ['dryRun --dry-run=(switch) ["--dry-run"]']],
    ['a short switch', ['-q'], ['quiet -q=(switch) ["-q"]']],
    ['a switch may repeat', ['-q', '--quiet'], ['quiet -q=(switch) ["-q"]', 'quiet --quiet=(switch) ["--quiet"]']],
    ['bundled short switches are not the loop\'s to split', ['-qt'], ['unknown -qt -q t']],
    ['repeatable values accumulate in order', ['-t', 'a', '--tag=b', '-tc'], ['tags -t=a ["-t","a"]', 'tags --tag=b ["--tag=b"]', 'tags -t=c ["-tc"]']],
    ['an unknown long flag', ['--no-cache'], ['unknown --no-cache --no-cache -']],
    ['an unknown long flag with a value', ['--platform=linux/amd64'], ['unknown --platform=linux/amd64 --platform linux/amd64']],
    ['an unknown short flag', ['-x'], ['unknown -x -x -']],
    ['an unknown short flag with a value', ['-xabc'], ['unknown -xabc -x abc']],
    ['an unknown flag does not take the next word', ['--platform', 'linux'], ['unknown --platform --platform -', 'positional linux']],
    ['- is a positional', ['-'], ['positional -']],
    ['positionals', ['a', 'b'], ['positional a', 'positional b']],
    ['-- makes the rest positional', ['-t', 'a', '--', '--config', '-q', '--'], ['tags -t=a ["-t","a"]', 'positional --config', 'positional -q', 'positional --']],
    [
      'unknown words and positionals keep their order between options',
      ['--push', 'ctx', '--config', 'c', '-x', '--tag=t', '--load', '-', '-q'],
      ['unknown --push --push -', 'positional ctx', 'config --config=c ["--config","c"]', 'unknown -x -x -', 'tags --tag=t ["--tag=t"]', 'unknown --load --load -', 'positional -', 'quiet -q=(switch) ["-q"]'],
    ],
    ['nothing', [], []],
  ])('%s', (_name, argv, want) => {
    expect(events(argv)).toEqual(want);
  });

  test('rest gets the words after -- in one call', () => {
    const rests: string[][] = [];
    expect(events(['a', '--', 'b', '-q'], { rest: (words) => rests.push(words) })).toEqual(['positional a']);
    expect(rests).toEqual([['b', '-q']]);
  });

  test('the table may change along the line', () => {
    let phase = 'before' as 'before' | 'after';
    const after: OptionSpec = { name: '--late', value: 'V', key: 'late' };
    expect(events(['--late', 'x', 'go', '--late', 'y'], {
      options: () => (phase === 'before' ? TABLE : [after]),
      positional: (word) => {
        if (word === 'go') phase = 'after';
      },
    })).toEqual(['unknown --late --late -', 'late --late=y ["--late","y"]']);
  });
});

describe('parseOptions: usage errors', () => {
  test.each<[string, string[], string]>([
    ['a value option at the end', ['--config'], '--config needs a value; see secbuild test --help.'],
    ['a short value option at the end', ['a', '-t'], '-t needs a value; see secbuild test --help.'],
    ['a non-repeatable option given twice', ['--config', 'a', '--config=b'], '--config is given twice; give it once.'],
    ['given twice wins over a missing value', ['--config=a', '--config'], '--config is given twice; give it once.'],
    ['a switch given a value', ['--dry-run=yes'], '--dry-run takes no value.'],
    ['a switch given an empty value', ['--dry-run='], '--dry-run takes no value.'],
    ['a short switch given a value', ['-q=1'], '-q takes no value.'],
  ])('%s', (_name, argv, message) => {
    let caught: unknown;
    try {
      events(argv);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toBe(message);
  });
});

describe('docker build flags', () => {
  test.each(['--add-host', '--build-arg', '--check', '--file', '-f', '--load', '--no-cache', '--output', '-o', '--push', '--quiet', '-q', '--secret', '--tag', '-t', '--cpu-shares', '-c', '--memory', '-m', '--squash', '--stream'])('%s is a docker build flag', (flag) => {
    expect(DOCKER_BUILD_FLAGS.has(flag)).toBe(true);
  });

  test.each(['--dry-run', '--verify', '--mask', '--config', '--docker', '--tmpdir', '-x', '--tags'])('%s is not', (flag) => {
    expect(DOCKER_BUILD_FLAGS.has(flag)).toBe(false);
  });

  test('every value-taking flag is in the set, and none of them is a switch', () => {
    for (const o of DOCKER_VALUE_OPTIONS) {
      expect(DOCKER_BUILD_FLAGS.has(o.name)).toBe(true);
      if (o.short) expect(DOCKER_BUILD_FLAGS.has(o.short)).toBe(true);
      expect(o.value).toBeDefined();
    }
  });

  test("secbuild's own options shadow only docker's --secret", () => {
    expect(OWN_OPTIONS.filter((o) => DOCKER_BUILD_FLAGS.has(o.name)).map((o) => o.name)).toEqual(['--secret']);
  });
});
