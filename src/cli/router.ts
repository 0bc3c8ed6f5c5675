/**
 * The commander layer for the subcommands: declares them, normalises their
 * options and calls src/cli/commands/*. Builds (the default command), compose,
 * check and verify parse their own command lines (src/args/), so that docker's
 * own flags pass through untouched. Commander's own errors (unknown option,
 * missing argument) are thrown on to the exit map (src/util/errors.ts), which
 * files them as usage errors; commander has printed them already.
 */
import type { Command } from 'commander';
import { helpTail, type HelpTail } from '../args/help.js';
import { OWN_OPTIONS } from '../args/own.js';
import { hideCredentials } from '../util/shown.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

type Commander = typeof import('commander');

function secretOptions(Option: Commander['Option'], cmd: Command): Command {
  for (const o of OWN_OPTIONS.filter((x) => ['secrets', 'netrc', 'npmrc', 'sshKeys', 'config'].includes(x.key))) {
    const opt = new Option(`${o.name} <${o.value!.toLowerCase()}>`, o.help);
    cmd.addOption(o.repeatable ? opt.argParser(collect).default([]) : opt);
  }
  return cmd;
}

interface SecretOpts {
  secret: string[];
  netrc: string[];
  npmrc: string[];
  sshKey?: string[];
  config?: string;
}

const flags = (o: SecretOpts) => ({ secrets: o.secret, netrc: o.netrc, npmrc: o.npmrc, sshKeys: o.sshKey ?? [], config: o.config });

/** The Examples and Exit codes sections commander prints after its own usage line and options table. */
const TAILS: Record<string, HelpTail> = {
  secrets: {
    examples: ['secbuild secrets', 'secbuild secrets --secret id=npm,from=env:NPM_TOKEN --config ci/secbuild.yml'],
    exits: [[0, 'every secret resolves (or is optional and absent)'], [2, 'usage or config error'], [3, 'a secret does not resolve']],
  },
  set: {
    examples: ['secbuild secret set npm/ci', 'printf %s "$TOKEN" | secbuild secret set npm/ci'],
    exits: [[0, 'stored'], [2, 'usage error'], [3, 'the keychain could not store it']],
  },
  rm: {
    examples: ['secbuild secret rm npm/ci'],
    exits: [[0, 'deleted'], [2, 'usage error'], [3, 'no such item, or the keychain could not delete it']],
  },
  doctor: {
    examples: ['secbuild doctor', 'secbuild doctor --docker /usr/bin/docker'],
    exits: [[0, 'a build can run here'], [1, 'a build cannot run here (the FAIL lines say why)'], [2, 'usage error']],
  },
  clean: {
    examples: ['secbuild clean', 'secbuild clean --tmpdir /dev/shm'],
    exits: [[0, 'swept'], [2, 'usage error']],
  },
};

const withTail = (cmd: Command, name: string): Command => cmd.addHelpText('after', `\n${helpTail(TAILS[name]!)}`);

export async function runCli(argv: readonly string[], version: string): Promise<void> {
  // Loaded here, not at the top: the bundle keeps dependencies external, and a
  // top-level import would be loaded by every build.
  const { Command, Option } = (await import('commander')) as Commander;
  const program = new Command('secbuild')
    .description('A drop-in `docker build` that resolves build secrets, mounts them from private tmpfs files and always cleans up.\n\nBuild: secbuild [build] [secbuild options] [docker build options] CONTEXT (see secbuild build --help)')
    .version(version, '-V, --version')
    .exitOverride()
    // Commander quotes what was typed (`unknown option '--secert=…,token=ghp_…'`): only through the typed-value filter.
    .configureOutput({ writeErr: (s) => process.stderr.write(hideCredentials(s.startsWith('error:') ? `secbuild: ${s}` : s)) })
    .showHelpAfterError('(see secbuild --help)');

  program.command('build').description('run docker build with secrets (the default command; see secbuild build --help)').allowUnknownOption().helpOption(false).argument('[args...]');
  // Routed by src/cli/main.ts straight to src/cli/commands/compose.ts; declared here for the help listing.
  program.command('compose').description('compose with secrets: secbuild compose [-f FILE…] build|up|down [SERVICE…] (see secbuild compose --help)').allowUnknownOption().helpOption(false).argument('[args...]');
  // Listed for help only: src/cli/main.ts routes `bake` to src/cli/commands/bake.ts.
  program.command('bake').description('run docker buildx bake with secrets for every target (see secbuild bake --help)').allowUnknownOption().helpOption(false).argument('[args...]');
  // Listed for help only: src/cli/main.ts routes `exec` to src/cli/commands/exec.ts.
  program.command('exec').description('run any command with the same secrets as files and variables, masked output and cleanup (see secbuild exec --help)').allowUnknownOption().helpOption(false).argument('[args...]');
  // Listed for help only: src/cli/main.ts routes `run` to src/cli/commands/run.ts.
  program.command('run').description('docker run with secrets bind-mounted read-only at /run/secrets/ID from a private tmpfs file (see secbuild run --help)').allowUnknownOption().helpOption(false).argument('[args...]');
  // Listed for help only: src/cli/main.ts routes `check` to src/cli/commands/check.ts, which parses a build's command line.
  program.command('check').description('static findings that would leak a secret into the image; exit 4 on an error (see secbuild check --help)').allowUnknownOption().helpOption(false).argument('[args...]');
  // Listed for help only: src/cli/main.ts routes `verify` to src/cli/commands/verify.ts.
  program.command('verify').description('search a built image (layers, config, history) for secret values; exit 4 on a hit (see secbuild verify --help)').allowUnknownOption().helpOption(false).argument('[args...]');

  withTail(secretOptions(Option, program.command('secrets')), 'secrets')
    .description('list every secret a build would provide: id, source, whether it resolves, byte length (never a value)')
    .action(async (o: SecretOpts) => {
      const { secretsCommand } = await import('./commands/secrets.js');
      await secretsCommand(flags(o));
    });

  const secret = program.command('secret').description('manage OS keychain items (keytar schema: service + account)');
  const keychainVerbs = [
    ['set', 'store a keychain item; the value is read from stdin, or from a hidden prompt on a terminal'],
    ['rm', 'delete a keychain item'],
  ] as const;
  for (const [verb, description] of keychainVerbs) {
    withTail(secret.command(verb), verb)
      .argument('<service/account>')
      .description(description)
      .action(async (key: string) => {
        const commands = await import('./commands/secret.js');
        await (verb === 'set' ? commands.secretSetCommand : commands.secretRmCommand)(key);
      });
  }

  withTail(program.command('doctor'), 'doctor')
    .description('check that a build can run here: docker, BuildKit, daemon, compose, podman, tmpfs, keychain')
    .option('--docker <path>', 'docker binary to check (default: $SECBUILD_DOCKER, else docker on PATH)')
    .option('--engine <engine>', 'the engine a build must be able to use: docker or podman (default: $SECBUILD_ENGINE, else either)')
    .option('--podman <path>', 'podman binary to check (default: $SECBUILD_PODMAN, else podman on PATH)')
    .option('--tmpdir <dir>', 'root for run directories to check')
    .action(async (o: { docker?: string; podman?: string; engine?: string; tmpdir?: string }) => {
      const { doctorCommand } = await import('./commands/doctor.js');
      await doctorCommand(o);
    });

  withTail(program.command('clean'), 'clean')
    .description('remove run directories left behind by secbuild processes that are gone')
    .option('--tmpdir <dir>', 'root to sweep (default: the root a build would use)')
    .action(async (o: { tmpdir?: string }) => {
      const { cleanCommand } = await import('./commands/clean.js');
      await cleanCommand(o);
    });

  await program.parseAsync([...argv], { from: 'user' });
}
