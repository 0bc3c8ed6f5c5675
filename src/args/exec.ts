/**
 * `secbuild exec [secret options] [--env VAR=REF…] [--] COMMAND [ARGS…]`:
 * secbuild's own options, then the command, verbatim. The first word that is
 * not an option (or every word after `--`) starts the command, so the
 * command's own flags are never read as secbuild's. Pure: argv in, a plain
 * object out; references are parsed later (src/pipeline/exec.ts).
 */
import { helpTail } from './help.js';
import { parseOptions } from './options.js';
import { applyOwn, checkOwn, HELP_OPTION, optionLines, OWN_OPTIONS, secretRunDefaults, type OwnKey, type OwnOption, type SecretRunOptions } from './own.js';
import { unknownOption } from './suggest.js';
import { UsageError } from '../util/errors.js';
import { showTyped } from '../util/shown.js';

export interface ExecArgs extends SecretRunOptions {
  help: boolean;
  /** `--env VAR=REF`, in order: the variable's name and the reference text. */
  envs: Array<{ name: string; ref: string }>;
  /** The command and its arguments, verbatim. */
  command: string[];
}

/** exec's wording where it differs from build's. */
const EXEC_HELP: Partial<Record<OwnKey, string>> = {
  secrets: 'a secret, as for secbuild build: written to $SECBUILD_SECRETS/ID (0600)',
  netrc: 'a .netrc entry, as for build: NETRC names the file, and git is told to read it (GIT_CONFIG_COUNT)',
  npmrc: 'an .npmrc entry, as for build: NPM_CONFIG_USERCONFIG names the file',
  dryRun: 'resolve and check everything, print the files and variable names the command would get, run nothing',
  mask: "mask secret values in the command's output even on a terminal (its stdout and stderr are then pipes)",
  noMask: "do not mask the command's output (masking is on whenever stdout or stderr is not a terminal)",
  report: 'write a JSON report of the run (ids, sources, lengths, the command, its exit code; never a value)',
};

/** build's own options that mean something to exec (not --docker, --verify, --allow-secret-build-arg), and --env. */
export const EXEC_OPTIONS: readonly OwnOption<OwnKey | 'envs'>[] = [
  ...OWN_OPTIONS.filter((o) => !['docker', 'verify', 'allowSecretBuildArg', 'context', 'host'].includes(o.key)).map((o) => ({ ...o, help: EXEC_HELP[o.key] ?? o.help })),
  { name: '--env', key: 'envs', value: 'VAR=REF', repeatable: true, help: "put a secret's value in the command's environment as VAR (refused for a value holding a NUL byte)" },
];

const OPTIONS = [HELP_OPTION, ...EXEC_OPTIONS];

/** A name a child's environment variable may have (POSIX's portable names); secbuild.yml's `env:` too. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME = ENV_NAME;

function envOption(value: string): { name: string; ref: string } {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  // The name only, and only through showTyped: what follows "=" — or, with no "=", all of it — may be the credential pasted in by mistake.
  if (eq < 0 || !NAME.test(name)) {
    const shown = NAME.test(name) ? `--env ${showTyped(name)}` : 'an --env value';
    throw new UsageError(`${shown} needs the form VAR=REF, a variable name of letters, digits and "_" then a reference, such as --env NPM_TOKEN=env:CI_NPM_TOKEN.`);
  }
  return { name, ref: value.slice(eq + 1) };
}

export function parseExecArgs(argv: readonly string[]): ExecArgs {
  const out: ExecArgs = { ...secretRunDefaults(), help: false, envs: [], command: [] };
  parseOptions(argv, {
    command: 'secbuild exec',
    options: OPTIONS,
    option: ({ spec, value }) => {
      if (spec.key === 'help') out.help = true;
      else if (spec.key === 'envs') {
        const env = envOption(value!);
        if (out.envs.some((e) => e.name === env.name)) throw new UsageError(`--env ${env.name} is given twice; give each variable once.`);
        out.envs.push(env);
      } else applyOwn(out, spec, value);
    },
    unknown: (_word, name) => {
      const typo = unknownOption(name, OPTIONS, 'secbuild exec');
      if (typo.message.includes('did you mean')) throw typo;
      throw new UsageError(`unknown option ${name}: not a secbuild exec option; the command's own options go after it (secbuild exec [options] -- COMMAND ARGS…).`);
    },
    positional: () => {},
    rest: (words) => out.command.push(...words),
    restFromPositional: true,
  });
  checkOwn(out);
  if (out.command.length === 0 && !out.help) throw new UsageError('secbuild exec needs a command to run: secbuild exec [options] -- COMMAND [ARGS…].');
  return out;
}

export function execHelp(): string {
  return [
    'Usage: secbuild exec [secbuild options] [--] COMMAND [ARGS...]',
    '',
    'Runs COMMAND with the secrets a build would get: each secret is a 0600 file in a private run directory',
    '($SECBUILD_SECRETS/ID), rendered .netrc/.npmrc/templates are named by the variables their tools read,',
    '--env puts a value in one variable. No shell; the output is masked when it goes to a log; the exit code',
    "is the command's; signals are forwarded; the files are removed on every exit path, SIGKILL of secbuild included.",
    '',
    'Options:',
    ...optionLines(EXEC_OPTIONS),
    '',
    'References (REF): env:NAME  file:PATH  keychain:SERVICE/ACCOUNT  cmd:COMMAND',
    '',
    helpTail({
      examples: [
        'secbuild exec --npmrc registry=https://npm.example.com/,token=env:NPM_TOKEN -- npm ci',
        'secbuild exec --netrc machine=github.com,login=x-access-token,password=env:GH_TOKEN -- git clone https://github.com/acme/private.git',
        'secbuild exec --env API_KEY=keychain:acme/api -- npm test',
        'secbuild exec --secret id=tok,from=env:TOKEN -- sh -c \'curl -H "Authorization: Bearer $(cat "$SECBUILD_SECRETS/tok")" https://api.example.com/\'',
      ],
      exits: [
        [0, 'the command succeeded'],
        [2, 'usage error, config error, or the command cannot be found: it was not run'],
        [3, 'a secret could not be resolved: the command was not run'],
        ['N', "the command's own exit code; 128+N when it (or secbuild) was ended by signal N"],
      ],
    }),
  ].join('\n');
}
