/**
 * Entry point and the one place where errors become exit codes and messages.
 * `secbuild …` with no known subcommand is a build, parsed by src/args.ts so
 * that docker's flags pass through untouched; subcommands go through the
 * commander layer in src/cli.ts, loaded only when needed.
 */
// The build is the hot path: bundled into the entry so a build loads one file.
// Everything else (commander, execa, yaml, the Dockerfile parser, keytar) is
// imported where it is used.
import { buildCommand } from './commands/build.js';
import { DockerExit, SecbuildError, SignalExit } from '../util/errors.js';
import { endGroup } from '../util/log.js';
import { VERSION } from '../util/version.js';


const SUBCOMMANDS = new Set(['secrets', 'secret', 'doctor', 'clean', 'help']);

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const [first] = argv;
    if (first === '--version' || first === '-V') {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (first === 'build') return await buildCommand(argv.slice(1));
    if (first === 'compose') {
      // Like build, compose passes docker's own options through, so commander does not parse it.
      const { composeCommand } = await import('./commands/compose.js');
      return await composeCommand(argv.slice(1));
    }
    // check takes a build's command line (docker flags included), so it is parsed like a build, not by commander.
    if (first === 'check') {
      const { checkCommand } = await import('./commands/check.js');
      return await checkCommand(argv.slice(1));
    }
    // verify takes a build's secret flags and an image; parsed by src/verify/args.ts.
    if (first === 'verify') {
      const { verifyCommand } = await import('./commands/verify.js');
      return await verifyCommand(argv.slice(1));
    }
    if (first !== undefined && (SUBCOMMANDS.has(first) || ((first === '--help' || first === '-h') && argv.length === 1))) {
      const { runCli } = await import('./router.js');
      return await runCli(argv, VERSION);
    }
    if (first === undefined) {
      const { runCli } = await import('./router.js');
      return await runCli(['--help'], VERSION);
    }
    return await buildCommand(argv);
  } catch (err) {
    return report(err);
  }
}

export function report(err: unknown): number {
  endGroup();
  if (err instanceof DockerExit) return err.exitCode;
  if (err instanceof SignalExit) return err.exitCode;
  if (err instanceof SecbuildError) {
    process.stderr.write(`secbuild: ${err.message}\n`);
    if (process.env.SECBUILD_DEBUG === '1' && err.cause) console.error(err.cause);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`secbuild: internal error: ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}. Rerun with SECBUILD_DEBUG=1 for details and report it.\n`);
  if (process.env.SECBUILD_DEBUG === '1') console.error(err);
  return 1;
}

const isEntry = process.argv[1] !== undefined && /secbuild(\.js)?$/.test(process.argv[1]);
if (isEntry) {
  process.on('uncaughtException', (err) => {
    process.exitCode = report(err);
    process.exit();
  });
  main(process.argv.slice(2)).then(async (code) => {
    process.exitCode = code;
    if (process.env.SECBUILD_DEBUG === '1') {
      const { phases } = await import('../util/timing.js');
      process.stderr.write(`secbuild: debug: phases ${phases().map((p) => `${p.phase}=${p.ms}ms`).join(' ')}\n`);
    }
  });
}
