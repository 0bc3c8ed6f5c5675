/**
 * `secbuild check [build arguments] [--format text|json] [CONTEXT]`: check's
 * one option of its own, taken out of what is otherwise a build command line
 * (read by parseBuildArgs, src/args/build.ts). Pure.
 */
import { parseOptions } from './options.js';
import { UsageError } from '../util/errors.js';
import { showTyped } from '../util/shown.js';

export type CheckFormat = 'text' | 'json';

const FORMAT = { name: '--format', key: 'format', value: 'text|json' } as const;

/** `--format VALUE` / `--format=VALUE` taken out of argv; the rest is a build command line, verbatim and in order. */
export function splitFormat(argv: readonly string[]): { format: CheckFormat; rest: string[] } {
  const rest: string[] = [];
  let format: string | undefined;
  parseOptions(argv, {
    command: 'secbuild check',
    options: [FORMAT],
    option: ({ value }) => (format = value),
    unknown: (word) => rest.push(word),
    positional: (word) => rest.push(word),
    // The build parser reads `--` too: leave it in.
    rest: (words) => rest.push('--', ...words),
  });
  if (format !== undefined && format !== 'text' && format !== 'json') throw new UsageError(`--format must be text or json, got "${showTyped(format)}".`);
  return { format: format ?? 'text', rest };
}
