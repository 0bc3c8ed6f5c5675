/**
 * Pure builders for docker command lines: resolved options in, `string[]` out.
 * Secret files appear as paths; values never reach argv.
 */
import { csvField } from '../../secrets/csv.js';
import type { SecretFile } from '../../run/rundir.js';

export function secretFlags(files: readonly SecretFile[]): string[] {
  return files.flatMap((f) => ['--secret', `${csvField(`id=${f.id}`)},${csvField(`src=${f.path}`)}`]);
}

/** `--ssh ID=SOCKET` for each of secbuild's agents. */
export function sshFlags(ssh: readonly string[]): string[] {
  return ssh.flatMap((s) => ['--ssh', s]);
}

/** `docker build --secret … [--ssh ID=SOCKET …] <user's args verbatim and in order>`. */
export function dockerBuildArgv(files: readonly SecretFile[], userArgs: readonly string[], ssh: readonly string[] = []): string[] {
  return ['build', ...secretFlags(files), ...sshFlags(ssh), ...userArgs];
}

/** The value of docker's long flag `name` (`--name V` or `--name=V`) in `dockerArgs`; the last one wins, as in docker. */
export function lastFlagValue(dockerArgs: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < dockerArgs.length; i++) {
    const a = dockerArgs[i]!;
    if (a === name) found = dockerArgs[++i];
    else if (a.startsWith(`${name}=`)) found = a.slice(name.length + 1);
  }
  return found;
}

/**
 * Whether docker writes the build's result to its stdout: `-o -`, `--output=-`
 * or an output whose `dest=-` (buildx util/buildflags/export.go: `-` alone is
 * a tar to stdout).
 */
export function outputToStdout(dockerArgs: readonly string[]): boolean {
  for (let i = 0; i < dockerArgs.length; i++) {
    const a = dockerArgs[i]!;
    let value: string | undefined;
    if (a === '-o' || a === '--output') value = dockerArgs[i + 1];
    else if (a.startsWith('--output=')) value = a.slice('--output='.length);
    else if (a.startsWith('-o')) value = a.slice(a[2] === '=' ? 3 : 2);
    if (value !== undefined && (value === '-' || value.split(',').some((f) => f.trim() === 'dest=-'))) return true;
  }
  return false;
}

/** A shell-quoted rendering for --dry-run and logs (paths only, never values). */
export function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
}
