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
import { OWN_OPTIONS, optionLines, type SecretRunOptions } from './build.js';
import { UsageError } from '../util/errors.js';

export interface ComposeArgs extends SecretRunOptions {
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

interface Own {
  name: string;
  value?: string;
  help: string;
}

/** Compose's wording where it differs from build's, for options shared with it. */
const COMPOSE_HELP: Record<string, string> = {
  '--secret': 'a secret (repeatable), as for secbuild build; build.secrets entries name it by id',
  '--dry-run': 'resolve and check everything, print the plan and the override or commands, run nothing',
};

/** secbuild's options for compose: build's own (but --verify), plus the engine choice and parallelism. */
export const OWN: readonly Own[] = [
  ...OWN_OPTIONS.filter((o) => o.name !== '--verify').map((o) => ({ name: o.name, value: o.value, help: COMPOSE_HELP[o.name] ?? o.help })),
  { name: '--engine', value: 'compose|direct', help: 'force an engine (default: compose when `docker compose` is v2, else direct)' },
  { name: '--parallel', value: 'N', help: 'build at most N services at once (-1: no limit; direct engine default 1)' },
];

const GLOBAL_VALUE = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '--progress', '--ansi']);
const GLOBAL_SWITCH = new Set(['--compatibility', '--verbose', '--all-resources']);
const BUILD_VALUE = new Set(['--build-arg', '--builder', '-m', '--memory', '--provenance', '--sbom', '--ssh', '--progress']);
/** Build options the direct engine reads; every other one is compose-engine only. */
const DIRECT_BUILD = new Set(['--build-arg', '--ssh', '--progress', '--no-cache', '--pull', '-q', '--quiet', '--with-dependencies']);

export function parseComposeArgs(argv: readonly string[]): ComposeArgs {
  const out: ComposeArgs = {
    secrets: [], netrc: [], npmrc: [], dryRun: false, requireTmpfs: false, mask: false, noMask: false, allowSecretBuildArg: [], help: false,
    files: [], envFiles: [], profiles: [], compatibility: false, globalArgs: [], buildArgs: [], services: [],
    cliBuildArgs: [], noCache: false, pull: false, quiet: false, ssh: [], withDependencies: false, directUnsupported: [],
  };
  let phase: 'global' | 'build' = 'global';
  let onlyServices = false;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (onlyServices || (!arg.startsWith('-') || arg === '-')) {
      if (phase === 'build') out.services.push(arg);
      else if (arg === 'build') phase = 'build';
      else throw new UsageError(`secbuild compose runs only the build command, got "${arg}"; write: secbuild compose [-f FILE…] build [SERVICE…].`);
      continue;
    }
    if (arg === '--') {
      if (phase !== 'build') throw new UsageError('secbuild compose: "--" comes after build; write: secbuild compose [-f FILE…] build [--] [SERVICE…].');
      onlyServices = true;
      continue;
    }
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    const long = arg.startsWith('--');
    const eq = long ? arg.indexOf('=') : -1;
    const name = long ? (eq < 0 ? arg : arg.slice(0, eq)) : arg.slice(0, 2);
    const attached = long ? (eq < 0 ? undefined : arg.slice(eq + 1)) : arg.length > 2 ? arg.slice(arg[2] === '=' ? 3 : 2) : undefined;
    const value = (): string => {
      if (attached !== undefined) return attached;
      if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value; see secbuild compose --help.`);
      return argv[++i]!;
    };
    const own = OWN.find((o) => o.name === name);
    if (own) {
      if (!own.value) {
        if (attached !== undefined) throw new UsageError(`${name} takes no value.`);
        if (name === '--dry-run') out.dryRun = true;
        else if (name === '--mask') out.mask = true;
        else if (name === '--no-mask') out.noMask = true;
        else out.requireTmpfs = true;
        continue;
      }
      const v = value();
      if (name === '--secret') out.secrets.push(v);
      else if (name === '--netrc') out.netrc.push(v);
      else if (name === '--npmrc') out.npmrc.push(v);
      else if (name === '--allow-secret-build-arg') out.allowSecretBuildArg.push(v);
      else {
        if (seen.has(name)) throw new UsageError(`${name} is given twice; give it once.`);
        seen.add(name);
        if (name === '--config') out.config = v;
        else if (name === '--tmpdir') out.tmpdir = v;
        else if (name === '--docker') out.docker = v;
        else if (name === '--report') out.report = v;
        else if (name === '--engine') {
          if (v !== 'compose' && v !== 'direct') throw new UsageError(`--engine ${v}: expected compose or direct.`);
          out.engine = v;
        } else {
          if (!/^(-1|[1-9]\d*)$/.test(v)) throw new UsageError(`--parallel ${v}: expected a positive number, or -1 for no limit.`);
          out.parallel = Number(v);
        }
      }
      continue;
    }
    if (phase === 'global') {
      if (GLOBAL_SWITCH.has(name) && attached === undefined) {
        if (name === '--compatibility') out.compatibility = true;
        out.globalArgs.push(arg);
        continue;
      }
      if (!GLOBAL_VALUE.has(name)) {
        throw new UsageError(`secbuild compose: unknown option ${name} before build; Compose's global options here are -f, -p, --project-directory, --env-file, --profile, --parallel, --progress, --ansi, --compatibility.`);
      }
      const v = value();
      if (name === '-f' || name === '--file') {
        out.files.push(v);
        continue;
      }
      out.globalArgs.push(name, v);
      if (name === '-p' || name === '--project-name') out.projectName = v;
      else if (name === '--project-directory') out.projectDirectory = v;
      else if (name === '--env-file') out.envFiles.push(v);
      else if (name === '--profile') out.profiles.push(v);
      else if (name === '--progress') out.progress = v;
      continue;
    }
    // build options
    if (!DIRECT_BUILD.has(name)) out.directUnsupported.push(name);
    if (!BUILD_VALUE.has(name)) {
      if (attached !== undefined && long) throw new UsageError(`${name} takes no value.`);
      out.buildArgs.push(arg);
      if (name === '--no-cache') out.noCache = true;
      else if (name === '--pull') out.pull = true;
      else if (name === '-q' || name === '--quiet') out.quiet = true;
      else if (name === '--with-dependencies') out.withDependencies = true;
      continue;
    }
    const v = value();
    out.buildArgs.push(name, v);
    if (name === '--build-arg') {
      const e = v.indexOf('=');
      out.cliBuildArgs.push(e < 0 ? [v, null] : [v.slice(0, e), v.slice(e + 1)]);
    } else if (name === '--ssh') out.ssh.push(v);
    else if (name === '--progress') out.progress = v;
  }
  if (out.mask && out.noMask) throw new UsageError('--mask and --no-mask contradict each other; give one.');
  if (phase !== 'build' && !out.help) throw new UsageError('secbuild compose needs the build command: secbuild compose [-f FILE…] build [SERVICE…].');
  return out;
}

export function composeHelp(): string {
  return [
    'Usage: secbuild compose [compose options] build [build options] [SERVICE...]',
    '',
    'Builds compose services with secrets from secbuild (build.secrets entries name them by id).',
    'Engines: compose (docker compose v2 with a one-off override file) or direct (secbuild reads the',
    'compose files and runs one docker build per service); chosen automatically, or with --engine.',
    '',
    'Compose options: -f FILE (repeatable), -p NAME, --project-directory DIR, --env-file FILE, --profile P,',
    '                 --progress MODE, --ansi WHEN, --compatibility',
    'Build options:   --build-arg K[=V], --no-cache, --pull, -q, --ssh SPEC, --with-dependencies',
    '                 (compose engine: any other `docker compose build` option, passed on)',
    '',
    'secbuild options (anywhere on the line):',
    ...optionLines(OWN),
    '',
  ].join('\n');
}
