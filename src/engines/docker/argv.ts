/**
 * Pure builders for docker command lines: resolved options in, `string[]` out.
 * Secret files appear as paths; values never reach argv.
 */
import { csvField } from '../../secrets/csv.js';
import type { SecretFile } from '../../run/rundir.js';

export function secretFlags(files: readonly SecretFile[]): string[] {
  return files.flatMap((f) => ['--secret', `${csvField(`id=${f.id}`)},${csvField(`src=${f.path}`)}`]);
}

/** `docker build --secret … <user's args verbatim and in order>`. */
export function dockerBuildArgv(files: readonly SecretFile[], userArgs: readonly string[]): string[] {
  return ['build', ...secretFlags(files), ...userArgs];
}

/** A shell-quoted rendering for --dry-run and logs (paths only, never values). */
export function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
