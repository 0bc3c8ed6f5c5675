/**
 * The closing sections every command's --help ends with, in one style:
 * "Examples:" (command lines) and "Exit codes:" (code, meaning). The
 * hand-written helps (build, compose, check, verify) and the commander ones
 * (secrets, secret, doctor, clean) both append them after their usage line and
 * options table. Pure.
 */

export interface HelpTail {
  examples: readonly string[];
  exits: ReadonlyArray<readonly [number | string, string]>;
}

export function helpTail({ examples, exits }: HelpTail): string {
  const width = Math.max(...exits.map(([c]) => String(c).length));
  return [
    'Examples:',
    ...examples.map((e) => `  ${e}`),
    '',
    'Exit codes:',
    ...exits.map(([c, what]) => `  ${String(c).padEnd(width)}  ${what}`),
    '',
  ].join('\n');
}

/** The exit codes of every command that runs docker with secrets (README "Exit codes"). */
export const RUN_EXITS: HelpTail['exits'] = [
  [0, 'the build succeeded'],
  [2, 'usage error, config error or preflight finding: docker was not run'],
  [3, 'a secret could not be resolved: docker was not run'],
  [4, 'a secret would reach (or, with --verify, reached) the image, argv or log'],
  ['N', "docker's own exit code; 128+N when ended by signal N"],
];
