/**
 * `secbuild compose [global options] build [build options] [SERVICE...]`:
 * splits the command line into secbuild's own options (accepted anywhere),
 * Compose's global options, Compose's build options and the services. Pure.
 *
 * Flag lists follow docker/compose cmd/compose/compose.go (global) and
 * cmd/compose/build.go. Options the compose engine does not need to read pass
 * through verbatim and in order; the direct engine refuses build options it
 * cannot honour instead of ignoring them.
 */
import { parseOptions, takesNoValue, type OptionHit, type OptionSpec } from './options.js';
import { applyOwn, checkOwn, HELP_OPTION, optionLines, OWN_OPTIONS, secretRunDefaults, type OwnKey, type OwnOption, type SecretRunOptions } from './own.js';
import { helpTail, RUN_EXITS } from './help.js';
import { UsageError } from '../util/errors.js';
import { showTyped } from '../util/shown.js';

export interface ComposeArgs extends SecretRunOptions {
  /** The Compose command: build (build secrets), up or down (run-time secrets, src/pipeline/compose-up.ts). */
  command: 'build' | 'up' | 'down';
  /** up/down options verbatim, in order, without secbuild's own. */
  runArgs: string[];
  /** up -d / --detach: the secret files outlive secbuild while the project has containers. */
  detach: boolean;
  engine?: 'compose' | 'direct';
  /** Max builds at once (Compose's global --parallel); -1: unlimited. */
  parallel?: number;
  help: boolean;
  files: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles: string[];
  profiles: string[];
  progress?: string;
  compatibility: boolean;
  /** Compose global options verbatim, in order, without -f and secbuild's own. */
  globalArgs: string[];
  /** Compose build options verbatim, in order, without secbuild's own. */
  buildArgs: string[];
  services: string[];
  /** `--build-arg` values (null: from the environment). */
  cliBuildArgs: Array<[string, string | null]>;
  noCache: boolean;
  pull: boolean;
  quiet: boolean;
  ssh: string[];
  withDependencies: boolean;
  /** Build options the direct engine cannot honour. */
  directUnsupported: string[];
}

/** Compose's wording where it differs from build's, for options shared with it. */
const COMPOSE_HELP: Record<string, string> = {
  '--secret': 'a secret (repeatable), as for secbuild build; build.secrets entries name it by id',
  '--dry-run': 'resolve and check everything, print the plan and the override or commands, run nothing',
};

/** secbuild's options for compose: build's own (but --verify), plus the engine choice and parallelism. */
export const OWN: readonly OwnOption<OwnKey | 'engine' | 'parallel'>[] = [
  ...OWN_OPTIONS.filter((o) => o.name !== '--verify' && o.name !== '--engine').map((o) => ({ ...o, help: COMPOSE_HELP[o.name] ?? o.help })),
  { name: '--engine', key: 'engine', value: 'ENGINE', repeatable: true, help: 'compose|direct: force a compose engine (default: compose when `docker compose` is v2, else direct); docker|podman: the builder (podman: always direct)' },
  { name: '--parallel', key: 'parallel', value: 'N', help: 'build at most N services at once (-1: no limit; direct engine default 1)' },
];

/** A Compose option that takes a value: the key is the field it fills, or `pass` (only kept in order). Any may repeat. */
const option = <K extends string>(name: string, key: K, short?: string): OptionSpec<K> => ({ name, ...(short ? { short } : {}), key, value: 'VALUE', repeatable: true });

/** Global options before `build`; -f is not passed on, secbuild hands compose its own file list. */
const GLOBAL_VALUE = [
  option('--file', 'files', '-f'), option('--project-name', 'projectName', '-p'), option('--project-directory', 'projectDirectory'),
  option('--env-file', 'envFiles'), option('--profile', 'profiles'), option('--progress', 'progress'), option('--ansi', 'pass'),
];
const GLOBAL_SWITCH = new Set(['--compatibility', '--verbose', '--all-resources']);
/** Build options after `build`. */
const BUILD_VALUE = [
  option('--build-arg', 'cliBuildArgs'), option('--builder', 'pass'), option('--memory', 'pass', '-m'),
  option('--provenance', 'pass'), option('--sbom', 'pass'), option('--ssh', 'ssh'), option('--progress', 'progress'),
];
/** Build options the direct engine reads; every other one is compose-engine only. */
const DIRECT_BUILD = new Set(['--build-arg', '--ssh', '--progress', '--no-cache', '--pull', '-q', '--quiet', '--with-dependencies']);
const BUILD_SWITCH: Record<string, 'noCache' | 'pull' | 'quiet' | 'withDependencies'> = {
  '--no-cache': 'noCache', '--pull': 'pull', '-q': 'quiet', '--quiet': 'quiet', '--with-dependencies': 'withDependencies',
};

/** up's and down's options that take a value (docker/compose cmd/compose/up.go, down.go). */
const UP_VALUE = [
  option('--attach', 'run'), option('--exit-code-from', 'run'), option('--no-attach', 'run'), option('--pull', 'run'),
  option('--scale', 'run'), option('--timeout', 'run', '-t'), option('--wait-timeout', 'run'),
];
const DOWN_VALUE = [option('--rmi', 'run'), option('--timeout', 'run', '-t')];

const OWN_SPECS: ReadonlySet<OptionSpec> = new Set(OWN);
const BEFORE_BUILD: readonly OptionSpec[] = [HELP_OPTION, ...OWN, ...GLOBAL_VALUE];
const AFTER_BUILD: readonly OptionSpec[] = [HELP_OPTION, ...OWN, ...BUILD_VALUE];
const AFTER_UP: readonly OptionSpec[] = [HELP_OPTION, ...OWN, ...UP_VALUE];
const AFTER_DOWN: readonly OptionSpec[] = [HELP_OPTION, ...OWN, ...DOWN_VALUE];
const COMMANDS = ['build', 'up', 'down'] as const;

export function parseComposeArgs(argv: readonly string[]): ComposeArgs {
  const out: ComposeArgs = {
    ...secretRunDefaults(), help: false, command: 'build', runArgs: [], detach: false,
    files: [], envFiles: [], profiles: [], compatibility: false, globalArgs: [], buildArgs: [], services: [],
    cliBuildArgs: [], noCache: false, pull: false, quiet: false, ssh: [], withDependencies: false, directUnsupported: [],
  };
  // Widened: the positional callback moves it to 'build', which narrowing cannot see.
  let phase = 'global' as 'global' | 'build' | 'up' | 'down';
  parseOptions(argv, {
    command: 'secbuild compose',
    options: () => (phase === 'global' ? BEFORE_BUILD : phase === 'build' ? AFTER_BUILD : phase === 'up' ? AFTER_UP : AFTER_DOWN),
    option: (hit) => {
      if (hit.spec.key === 'help') out.help = true;
      else if (OWN_SPECS.has(hit.spec)) ownOption(out, hit);
      else if (phase === 'global') globalOption(out, hit);
      else if (phase === 'build') buildOption(out, hit);
      else out.runArgs.push(...hit.words);
    },
    unknown: (word, name, inline) => {
      if (phase === 'up' || phase === 'down') {
        // Switches (-d, --wait, --remove-orphans, -v …), passed on as written.
        // `up --wait` implies --detach (docker/compose up.go).
        const detach = name === '--detach' ? !/^(false|0)$/i.test(inline ?? '') : name === '--wait' || (!word.startsWith('--') && word.slice(1).includes('d'));
        if (detach) out.detach ||= phase === 'up';
        out.runArgs.push(word);
        return;
      }
      if (phase === 'global') {
        if (!GLOBAL_SWITCH.has(name) || inline !== undefined) {
          throw new UsageError(`secbuild compose: unknown option ${name} before build; Compose's global options here are -f, -p, --project-directory, --env-file, --profile, --parallel, --progress, --ansi, --compatibility.`);
        }
        if (name === '--compatibility') out.compatibility = true;
        out.globalArgs.push(word);
        return;
      }
      // Any other build option is a switch; compose-engine only unless the direct engine reads it.
      if (!DIRECT_BUILD.has(name)) out.directUnsupported.push(name);
      if (inline !== undefined && word.startsWith('--')) throw takesNoValue(name);
      out.buildArgs.push(word);
      const key = BUILD_SWITCH[name];
      if (key) out[key] = true;
    },
    positional: (word) => {
      if (phase !== 'global') out.services.push(word);
      else if ((COMMANDS as readonly string[]).includes(word)) phase = out.command = word as ComposeArgs['command'];
      else throw new UsageError(`secbuild compose runs build, up and down, got "${word}"; write: secbuild compose [-f FILE…] build|up|down [SERVICE…].`);
    },
    rest: (words) => {
      if (phase === 'global') throw new UsageError('secbuild compose: "--" comes after the command; write: secbuild compose [-f FILE…] build|up [--] [SERVICE…].');
      out.services.push(...words);
    },
  });
  checkOwn(out);
  if (phase === 'global' && !out.help) throw new UsageError('secbuild compose needs a command: secbuild compose [-f FILE…] build|up|down [SERVICE…].');
  return out;
}

function ownOption(out: ComposeArgs, { spec, value }: OptionHit): void {
  if (spec.key === 'engine') {
    // Given twice: one names the compose engine, the other the builder (--engine direct --engine podman).
    if (value === 'docker' || value === 'podman') out.builder = value;
    else if (value === 'compose' || value === 'direct') out.engine = value;
    else throw new UsageError(`--engine ${showTyped(value ?? '')}: expected compose or direct (the compose engine), or docker or podman (the builder).`);
  } else if (spec.key === 'parallel') {
    if (!/^(-1|[1-9]\d*)$/.test(value!)) throw new UsageError(`--parallel ${value}: expected a positive number, or -1 for no limit.`);
    out.parallel = Number(value);
  } else applyOwn(out, spec, value);
}

function globalOption(out: ComposeArgs, { spec, flag, value }: OptionHit): void {
  const v = value!;
  if (spec.key === 'files') {
    out.files.push(v);
    return;
  }
  // --progress is placed by composeArgv, where the Compose version reads it.
  if (spec.key === 'progress') {
    out.progress = v;
    return;
  }
  out.globalArgs.push(flag, v);
  if (spec.key === 'projectName') out.projectName = v;
  else if (spec.key === 'projectDirectory') out.projectDirectory = v;
  else if (spec.key === 'envFiles') out.envFiles.push(v);
  else if (spec.key === 'profiles') out.profiles.push(v);
}

function buildOption(out: ComposeArgs, { spec, flag, value }: OptionHit): void {
  const v = value!;
  if (spec.key === 'progress') {
    out.progress = v;
    return;
  }
  if (!DIRECT_BUILD.has(flag)) out.directUnsupported.push(flag);
  out.buildArgs.push(flag, v);
  if (spec.key === 'cliBuildArgs') {
    const e = v.indexOf('=');
    out.cliBuildArgs.push(e < 0 ? [v, null] : [v.slice(0, e), v.slice(e + 1)]);
  } else if (spec.key === 'ssh') out.ssh.push(v);
}

export function composeHelp(): string {
  return [
    'Usage: secbuild compose [compose options] build [build options] [SERVICE...]',
    '       secbuild compose [compose options] up [up options] [SERVICE...]   (run-time secrets)',
    '       secbuild compose [compose options] down [down options]',
    '',
    'up: each services.S.secrets entry whose secret secbuild provides is a read-only file from a private',
    'tmpfs run directory (uid/gid/mode of the long syntax set on it); foreground, the files go when up',
    'ends; with -d a keeper holds them until the project has no containers, or secbuild compose down.',
    '',
    'Builds compose services with secrets from secbuild (build.secrets entries name them by id). Options: are',
    "secbuild's own and may stand anywhere on the line.",
    'Engines: compose (docker compose v2 with a one-off override file) or direct (secbuild reads the',
    'compose files and runs one docker build per service); chosen automatically, or with --engine.',
    '',
    'Compose options: -f FILE (repeatable), -p NAME, --project-directory DIR, --env-file FILE, --profile P,',
    '                 --progress MODE, --ansi WHEN, --compatibility',
    'Build options:   --build-arg K[=V], --no-cache, --pull, -q, --ssh SPEC, --with-dependencies',
    '                 (compose engine: any other `docker compose build` option, passed on)',
    '',
    'Options:',
    ...optionLines(OWN),
    '',
    helpTail({
      examples: [
        'secbuild compose build',
        'secbuild compose -f compose.yaml build --secret id=npm,from=env:NPM_TOKEN api',
        'secbuild compose build --engine direct --dry-run',
      ],
      exits: RUN_EXITS,
    }),
  ].join('\n');
}
