/**
 * Entry point: routes `secbuild …` to a command and hands the outcome to the
 * exit path (src/cli/exit.ts). `secbuild …` with no known subcommand is a
 * build, parsed by src/args/build.ts so that docker's flags pass through
 * untouched; build, compose, exec, check and verify parse their own command
 * lines (they take docker's, Compose's or a command's flags); the other subcommands go through
 * the commander layer in src/cli/router.ts, loaded only when needed.
 */
// The build is the hot path: bundled into the entry so a build loads one file.
// Everything else (commander, execa, yaml, the Dockerfile parser, keytar) is
// imported where it is used.
import { existsSync } from 'node:fs';
import { buildCommand } from './commands/build.js';
import { closest } from '../args/suggest.js';
import { UsageError } from '../util/errors.js';
import { abandonChildren } from '../run/exec.js';
import { installExitPaths, outcome } from './exit.js';
import { VERSION } from '../util/version.js';

const SUBCOMMANDS = new Set(['secrets', 'secret', 'doctor', 'clean', 'help']);
const COMMANDS = ['build', 'compose', 'bake', 'exec', 'run', 'check', 'verify', ...SUBCOMMANDS];

/**
 * A first word two edits from a command, and no such path here, is a typo
 * (`docter`), not a build context: stop before docker is asked to build a
 * directory that does not exist. An existing directory named so still builds.
 */
function typo(first: string): UsageError | undefined {
  if (first.startsWith('-') || COMMANDS.includes(first)) return undefined;
  const near = closest(first, COMMANDS);
  return near !== undefined && !existsSync(first) ? new UsageError(`unknown command '${first}'; did you mean '${near}'?`) : undefined;
}

async function route(argv: readonly string[]): Promise<void> {
  const [first] = argv;
  if (first === '--version' || first === '-V') {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (first === 'build') return buildCommand(argv.slice(1));
  if (first === 'compose') return (await import('./commands/compose.js')).composeCommand(argv.slice(1));
  if (first === 'bake') return (await import('./commands/bake.js')).bakeCommand(argv.slice(1));
  if (first === 'exec') return (await import('./commands/exec.js')).execCommand(argv.slice(1));
  if (first === 'run') return (await import('./commands/run.js')).runCommand(argv.slice(1));
  if (first === 'check') return (await import('./commands/check.js')).checkCommand(argv.slice(1));
  if (first === 'verify') return (await import('./commands/verify.js')).verifyCommand(argv.slice(1));
  if (first === undefined || SUBCOMMANDS.has(first) || ((first === '--help' || first === '-h') && argv.length === 1)) {
    const { runCli } = await import('./router.js');
    return runCli(first === undefined ? ['--help'] : argv, VERSION);
  }
  const mistake = typo(first);
  if (mistake) throw mistake;
  return buildCommand(argv);
}

/** Runs one command line; resolves to secbuild's exit code (what went wrong already printed). */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await route(argv);
    return outcome(undefined);
  } catch (err) {
    abandonChildren();
    return outcome(err);
  }
}

const isEntry = process.argv[1] !== undefined && /secbuild(\.js)?$/.test(process.argv[1]);
if (isEntry) {
  // `--version` starts no child and writes no secret file: it needs no signal path (the loader may write its code cache at exit).
  if (process.argv[2] !== '--version' && process.argv[2] !== '-V') installExitPaths();
  main(process.argv.slice(2)).then(async (code) => {
    process.exitCode = code;
    if (process.env.SECBUILD_DEBUG === '1') {
      const { phases } = await import('../util/timing.js');
      process.stderr.write(`secbuild: debug: phases ${phases().map((p) => `${p.phase}=${p.ms}ms(cpu:${p.cpu})`).join(' ')}\n`);
    }
  });
}
