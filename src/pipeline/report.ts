/**
 * `--report FILE`: a JSON account of the run, written on every exit path
 * that gets that far. Built from ids, sources, lengths, paths and counts —
 * never from a value. Field reference: README "Report".
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ChildExit, exitCodeOf, SecbuildError, UsageError } from '../util/errors.js';
import type { PrintableArgv } from '../run/printable.js';
import { userFileProblem, writeUserFile } from '../run/user-file.js';
import type { Secret } from '../secrets/secret.js';
import { masked, warn } from '../util/log.js';
import { phases } from '../util/timing.js';
import type { VerifyResult } from '../verify/scan.js';

export interface Report {
  secbuild: string;
  command: string;
  engine?: { docker: string; clientVersion?: string; buildkit?: string; compose?: 'compose' | 'direct' };
  /** docker's argv as run (secret file paths, never values; a cache MAC redacted by printableArgv). For compose, the last one started. */
  dockerArgv?: PrintableArgv;
  /** compose: every docker process started, in order: the service (direct engine) and its argv. */
  runs?: Array<{ service?: string; argv: PrintableArgv; exitCode?: number }>;
  /** bake: per target, its Dockerfile as read, the ids secbuild served it and (`--verify`) what the search of its image found. */
  targets?: Array<{ target: string; dockerfile?: string; secrets: string[]; ssh?: string[]; verify?: VerifyResult }>;
  /** `cache`: the secret's cache policy (stable, content, scope:NAME, content+scope:NAME), never its cache input. */
  secrets: Array<{ id: string; source: string; bytes: number; mounted: boolean; masked: boolean; cache: string }>;
  skipped: Array<{ id: string; source: string; reason: string }>;
  /** `--ssh-key` / secbuild.yml `ssh:`: per ssh id, each key's source, type and fingerprint (never the key). */
  ssh?: Array<{ id: string; keys: Array<{ source: string; type?: string; fingerprint?: string }> }>;
  preflight: { checked: boolean; findings: Array<{ level: string; rule?: string; message: string }> };
  masking: { enabled: boolean; occurrences: Record<string, number> };
  warnings: string[];
  timings: Array<{ phase: string; at: number; ms: number }>;
  /** `--verify` of a build: where the image holds secret values (ids and places, never a value) and what was searched. bake: in `targets`. */
  verify?: VerifyResult;
  exitCode?: number;
  error?: string;
}

export function newReport(command: string, version: string): Report {
  return {
    secbuild: version,
    command,
    secrets: [],
    skipped: [],
    preflight: { checked: false, findings: [] },
    masking: { enabled: false, occurrences: {} },
    warnings: [],
    timings: [],
  };
}

export function reportSecrets(report: Report, values: readonly Secret[], mounted: readonly Secret[], masked: (s: Secret) => boolean, cache: (id: string) => string = () => 'stable'): void {
  const seen = new Set<Secret>();
  for (const s of [...mounted, ...values]) {
    if (seen.has(s)) continue;
    seen.add(s);
    report.secrets.push({ id: s.id, source: s.source, bytes: s.bytes, mounted: mounted.includes(s), masked: masked(s), cache: cache(s.id) });
  }
}

/**
 * Written 0600 (it names the secrets and their sources), through the output
 * filter like every other text, by the user-file writer: never through a
 * symlink, never changing the mode of a file secbuild did not create.
 */
export function writeReport(path: string, report: Report): void {
  report.timings = phases();
  writeUserFile(path, masked(`${JSON.stringify(report, null, 2)}\n`));
}

/** Refuses a --report path that cannot be written, before anything runs. */
export function checkReportPath(path: string): void {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new UsageError(`--report ${path}: the directory ${dir} cannot be written (${(err as NodeJS.ErrnoException).code ?? 'error'}); give a path in a writable directory.`);
  }
  const problem = userFileProblem(path);
  if (problem) throw new UsageError(`--report ${path}: ${problem}; a report is written as a regular file of its own: give another path (then read the file from there).`);
}

/**
 * Runs a command with a report: its exit code (from the exit map) and
 * secbuild's error message are recorded, and the file is written on every
 * exit path — also when a signal ends secbuild before docker runs (the exit
 * hook). A report that cannot be written is a warning: the run's own outcome
 * stands.
 */
export async function withReport(report: Report, file: string | undefined, run: (report: Report) => Promise<void>): Promise<void> {
  if (!file) return run(report);
  checkReportPath(file);
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    try {
      writeReport(file, report);
    } catch (err) {
      warn(`--report ${file} could not be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); the run's outcome is unchanged.`);
    }
  };
  const onExit = (code: number) => {
    report.exitCode ??= code;
    write();
  };
  process.on('exit', onExit);
  try {
    await run(report);
    report.exitCode = exitCodeOf(undefined);
  } catch (err) {
    report.exitCode = exitCodeOf(err);
    report.error = err instanceof SecbuildError && !(err instanceof ChildExit) ? masked(err.message) : undefined;
    throw err;
  } finally {
    process.off('exit', onExit);
    write();
  }
}
