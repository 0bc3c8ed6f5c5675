/**
 * `secbuild bake [secbuild options] [bake options] [TARGET...]`: splits the
 * command line into secbuild's own options (accepted anywhere), the options of
 * `docker buildx bake` (kept verbatim and in order) and the targets. Pure.
 *
 * Bake's flags follow buildx 0.13 commands/bake.go. Those that take a value
 * are listed, so their value is never taken for a target; any other option is
 * passed on as a switch.
 */
import { parseOptions, takesNoValue, type OptionHit, type OptionSpec } from './options.js';
import { applyOwn, checkOwn, HELP_OPTION, optionLines, OWN_OPTIONS, secretRunDefaults, type OwnOption, type SecretRunOptions } from './own.js';
import { helpTail, RUN_EXITS } from './help.js';
import { UsageError } from '../util/errors.js';

export interface BakeArgs extends SecretRunOptions {
  help: boolean;
  /** --verify: each target's image searched after the bake. */
  verify?: boolean;
  /** `-f/--file` values, in order (none: bake's default lookup). */
  files: string[];
  /** `--set` values, in order. */
  sets: string[];
  /** Every bake option verbatim and in order (-f and --set included), without secbuild's own. */
  bakeArgs: string[];
  targets: string[];
  progress?: string;
  /** `--print`: bake prints the resolved definition and builds nothing. */
  print: boolean;
}

/** secbuild's own options for bake: build's, without podman's (bake is docker's). */
export const OWN: readonly OwnOption[] = OWN_OPTIONS.filter((o) => !['--engine', '--podman'].includes(o.name)).map((o) =>
  o.name === '--dry-run' ? { ...o, help: 'resolve and check everything, print the plan per target and the bake command, run nothing' }
    : o.name === '--verify' ? { ...o, help: "after the bake, search each target's image for the secrets (see secbuild verify); exit 4 naming the target on a hit" } : o,
);

const option = <K extends string>(name: string, key: K, short?: string): OptionSpec<K> => ({ name, ...(short ? { short } : {}), key, value: 'VALUE', repeatable: true });

/** `docker buildx bake` options that take a value. */
const BAKE_VALUE = [
  option('--file', 'files', '-f'), option('--set', 'sets'), option('--progress', 'progress'), option('--builder', 'pass'),
  option('--metadata-file', 'pass'), option('--provenance', 'pass'), option('--sbom', 'pass'), option('--call', 'pass'),
];

/** secbuild options of build that bake cannot honour: refused, never passed to bake. */
const NOT_BAKE = new Set(['--engine', '--podman']);

const OWN_SPECS: ReadonlySet<OptionSpec> = new Set(OWN);
const TABLE: readonly OptionSpec[] = [HELP_OPTION, ...OWN, ...BAKE_VALUE];

export function parseBakeArgs(argv: readonly string[]): BakeArgs {
  const out: BakeArgs = { ...secretRunDefaults(), help: false, files: [], sets: [], bakeArgs: [], targets: [], print: false };
  parseOptions(argv, {
    command: 'secbuild bake',
    options: TABLE,
    option: (hit) => {
      if (hit.spec.key === 'help') out.help = true;
      else if (OWN_SPECS.has(hit.spec)) applyOwn(out, hit.spec, hit.value);
      else bakeOption(out, hit);
    },
    unknown: (word, name, inline) => {
      if (NOT_BAKE.has(name)) throw new UsageError(`secbuild bake does not take ${name}: bake is docker buildx's (podman has none); build that image with secbuild build ${name} instead.`);
      if (inline !== undefined && word.startsWith('--')) throw takesNoValue(name);
      if (name === '--print') out.print = true;
      out.bakeArgs.push(word);
    },
    positional: (word) => out.targets.push(word),
  });
  checkOwn(out);
  return out;
}

function bakeOption(out: BakeArgs, { spec, flag, value }: OptionHit): void {
  const v = value!;
  out.bakeArgs.push(flag, v);
  if (spec.key === 'files') out.files.push(v);
  else if (spec.key === 'sets') out.sets.push(v);
  else if (spec.key === 'progress') out.progress = v;
  else if (flag === '--builder' && !v) throw new UsageError('--builder needs a builder name.');
}

export function bakeHelp(): string {
  return [
    'Usage: secbuild bake [secbuild options] [bake options] [TARGET...]',
    '',
    'Runs `docker buildx bake` with secrets from secbuild. The targets are resolved by bake itself',
    '(docker buildx bake --print, remembered while the bake files, the variables they name, the options',
    'and targets are unchanged); each secret secbuild provides is served from a private file to the',
    'targets whose `secret` list names its id or whose Dockerfile mounts it, and each --ssh-key to those',
    'whose `ssh` list names its id or whose Dockerfile mounts it. A target\'s own entries for other ids',
    'are kept as they are. A cache= policy gives each target that mounts the secret a derived Dockerfile.',
    '',
    'Bake options (passed on): -f FILE (repeatable), --set TARGET.KEY=VALUE, --load, --push, --print,',
    '                          --no-cache, --pull, --progress MODE, --metadata-file FILE, --builder NAME,',
    '                          --provenance V, --sbom V (any other switch is passed on too)',
    '',
    'Options:',
    ...optionLines(OWN),
    '',
    helpTail({
      examples: [
        'secbuild bake --secret id=npm,from=env:NPM_TOKEN',
        'secbuild bake -f docker-bake.hcl --netrc machine=github.com,login=x,password=env:GH_TOKEN api web',
        'secbuild bake --ssh-key gh=file:deploy_key --secret id=npm,from=env:NPM_TOKEN,cache=content',
        'secbuild bake --dry-run',
      ],
      exits: RUN_EXITS,
    }),
  ].join('\n');
}
