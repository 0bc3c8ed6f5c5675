/**
 * Splits a `secbuild [build] …` command line into secbuild's own options and
 * the docker build arguments, which are passed on verbatim and in order.
 * Pure: argv in, a plain object out.
 *
 * docker's value-taking flags (src/args/docker-flags.ts) are in the option
 * table so that `-t app .` is read as a flag with a value and a context, not
 * two contexts; every other flag goes to docker as it is.
 */
import { DOCKER_BUILD_FLAGS, DOCKER_VALUE_OPTIONS } from './docker-flags.js';
import { helpTail, RUN_EXITS } from './help.js';
import { unknownOption, type KnownFlag } from './suggest.js';
import { parseOptions } from './options.js';
import { applyOwn, checkOwn, HELP_OPTION, optionLines, OWN_OPTIONS, secretRunDefaults, type SecretRunOptions } from './own.js';
import { UsageError } from '../util/errors.js';

export type { SecretRunOptions } from './own.js';

export interface BuildArgs extends SecretRunOptions {
  verify: boolean;
  help: boolean;
  /** Everything else, verbatim and in order (context included). */
  dockerArgs: string[];
  /** Index of the build context within dockerArgs (last positional). */
  contextIndex: number;
  /** Values of docker flags secbuild needs to read: -f, --target, --build-arg. */
  file?: string;
  /** Where the -f/--file words are in dockerArgs (a derived Dockerfile replaces them). */
  fileAt?: { index: number; count: number };
  target?: string;
  buildArgs: string[];
  /** docker's own --ssh values (passed on untouched; their ids count as forwarded). */
  ssh: string[];
}

/** secbuild's own options first: --secret is docker's too, and secbuild takes it. */
const OPTIONS = [HELP_OPTION, ...OWN_OPTIONS, ...DOCKER_VALUE_OPTIONS.filter((d) => !OWN_OPTIONS.some((o) => o.name === d.name))];

/** Every flag a build line may carry, for "did you mean": secbuild's, docker build's, and -V at the front. Made on a typo only. */
const knownFlags = (): readonly KnownFlag[] => [
  ...OPTIONS,
  ...[...DOCKER_BUILD_FLAGS].filter((f) => f.startsWith('--') && !OPTIONS.some((o) => o.name === f)).map((name) => ({ name })),
  { name: '--version', short: '-V' },
];

export function parseBuildArgs(argv: readonly string[]): BuildArgs {
  const out: BuildArgs = { ...secretRunDefaults(), verify: false, help: false, dockerArgs: [], contextIndex: -1, buildArgs: [], ssh: [] };
  const positionals: number[] = [];
  const positional = (word: string) => {
    positionals.push(out.dockerArgs.length);
    out.dockerArgs.push(word);
  };
  parseOptions(argv, {
    command: 'secbuild build',
    options: OPTIONS,
    option: ({ spec, value, words }) => {
      if (spec.key === 'help') out.help = true;
      else if (spec.key !== 'dockerFlag') applyOwn(out, spec, value);
      else {
        if (spec.name === '--file') out.fileAt = { index: out.dockerArgs.length, count: words.length };
        out.dockerArgs.push(...words);
        if (spec.name === '--file') out.file = value;
        else if (spec.name === '--target') out.target = value;
        else if (spec.name === '--build-arg') out.buildArgs.push(value!);
        else if (spec.name === '--ssh') out.ssh.push(value!);
      }
    },
    // docker's switches go to docker; a flag neither knows is a typo (issue 11), never a build.
    unknown: (word, name) => {
      if (!DOCKER_BUILD_FLAGS.has(name)) throw unknownOption(name, knownFlags(), 'secbuild build');
      out.dockerArgs.push(word);
    },
    positional,
  });
  checkOwn(out);
  if (positionals.length > 1) {
    const extra = positionals.map((p) => `"${out.dockerArgs[p]}"`).join(', ');
    throw new UsageError(`docker build takes one build context, got ${extra}; check for a flag value missing its flag.`);
  }
  out.contextIndex = positionals[0] ?? -1;
  return out;
}

export function buildHelp(): string {
  return [
    'Usage: secbuild [build] [secbuild options] [docker build options] CONTEXT',
    '',
    'Runs docker build with BuildKit secret mounts. Options not listed here go to docker build unchanged.',
    '',
    'Options:',
    ...optionLines(OWN_OPTIONS),
    '',
    'References (REF): env:NAME  file:PATH  keychain:SERVICE/ACCOUNT  cmd:COMMAND',
    '',
    helpTail({
      examples: [
        'secbuild -t app --secret id=npm,from=env:NPM_TOKEN .',
        'secbuild --ssh-key env:DEPLOY_KEY -t app .',
        'secbuild --verify --netrc machine=github.com,login=x-access-token,password=env:GH_TOKEN -t app .',
        'secbuild --dry-run -f docker/Dockerfile --target prod .',
      ],
      exits: RUN_EXITS,
    }),
  ].join('\n');
}
