/**
 * One rule for stdout: when stdout carries data (the build's result with
 * `-o -`, exec's command's output), nothing of secbuild's is written to it.
 * Read from the source text: the only writers of process.stdout are the
 * commands whose stdout is their own report (help, --version, check,
 * secrets, doctor, verify), the dry run (which starts nothing, so there is no
 * data), and the masked copy of a child's own stdout. Secbuild's lines and
 * GitHub Actions workflow commands go to stderr (src/util/log.ts); a new
 * writer of stdout fails here before review.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect, test } from 'vitest';
import { ROOT, sources } from '../helpers/source-files.js';



const ALLOWED = new Map([
  ['src/cli/job.ts', 'help'],
  ['src/cli/main.ts', '--version'],
  ['src/cli/commands/check.ts', 'the findings'],
  ['src/cli/commands/secrets.ts', 'the table'],
  ['src/cli/commands/doctor.ts', 'the checks'],
  ['src/cli/commands/verify.ts', 'help and the report'],
  ['src/pipeline/run.ts', '--dry-run: nothing is started'],
  ['src/pipeline/masked-run.ts', "a child's own stdout, masked"],
]);

test('only the commands whose stdout is their report, the dry run and a masked child write to stdout', () => {
  const writers = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'providers'))]
    .filter((f) => readFileSync(f, 'utf8').split('\n').some((l) => !/^\s*(\*|\/\/)/.test(l) && /process\.stdout(?!\.isTTY)|console\.(log|info)\(/.test(l)))
    .map((f) => relative(ROOT, f));
  expect(writers.filter((f) => !ALLOWED.has(f))).toEqual([]);
});

test('no console.* in src/ or providers/: secbuild prints through src/util/log.ts (masked; debugError prints stacks, never an error\'s properties)', () => {
  const users = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'providers'))]
    .filter((f) => readFileSync(f, 'utf8').split('\n').some((l) => !/^\s*(\*|\/\/)/.test(l) && /\bconsole\.\w+\(/.test(l)))
    .map((f) => relative(ROOT, f));
  expect(users).toEqual([]);
});
