/**
 * Splits a `secbuild [build] …` command line into secbuild's own options and
 * the docker build arguments, which are passed on verbatim and in order.
 * Pure: argv in, a plain object out.
 *
 * Docker's value-taking flags must be known so that `-t app .` is read as a
 * flag with a value and a context, not two contexts. The list follows
 * docker/buildx commands/build.go (buildFlags/commonBuildFlags) plus the
 * classic builder's flags of docker/cli (cli/command/image/build.go).
 */
import { UsageError } from '../util/errors.js';

export interface OwnOption {
  name: string;
  /** Field of BuildArgs it fills. */
  key: 'secrets' | 'netrc' | 'npmrc' | 'config' | 'dryRun' | 'tmpdir' | 'requireTmpfs' | 'docker' | 'mask' | 'noMask' | 'allowSecretBuildArg' | 'report' | 'verify';
  /** Value name shown in help; undefined for a switch. */
  value?: string;
  repeatable?: boolean;
  help: string;
}

/** secbuild's own options. None of these names is a docker build flag. */
export const OWN_OPTIONS: readonly OwnOption[] = [
  { name: '--secret', key: 'secrets', value: 'SPEC', repeatable: true, help: 'a secret: id=ID,from=REF | docker forms id=ID,src=PATH | id=ID,env=VAR | id=ID; add ",optional" to allow it to be absent' },
  { name: '--netrc', key: 'netrc', value: 'SPEC', repeatable: true, help: 'a .netrc entry: machine=HOST,login=LOGIN,password=REF[,id=ID] (one file, id netrc)' },
  { name: '--npmrc', key: 'npmrc', value: 'SPEC', repeatable: true, help: 'an .npmrc entry: registry=URL,token=REF[,scope=@SCOPE][,id=ID] (one file, id npmrc)' },
  { name: '--config', key: 'config', value: 'PATH', help: 'config file (default: ./secbuild.yml when present)' },
  { name: '--dry-run', key: 'dryRun', help: 'resolve and check everything, print the docker command, do not run it' },
  { name: '--tmpdir', key: 'tmpdir', value: 'DIR', help: 'root for the run directory (default: $SECBUILD_TMPDIR, $XDG_RUNTIME_DIR or /dev/shm when tmpfs)' },
  { name: '--require-tmpfs', key: 'requireTmpfs', help: 'fail instead of warning when the secret files would not be memory-backed' },
  { name: '--docker', key: 'docker', value: 'PATH', help: 'docker binary to run (default: $SECBUILD_DOCKER, else docker on PATH)' },
  { name: '--mask', key: 'mask', help: "mask secret values in docker's output even on a terminal (docker then gets --progress=plain)" },
  { name: '--no-mask', key: 'noMask', help: "do not mask docker's output (masking is on whenever stdout or stderr is not a terminal)" },
  { name: '--allow-secret-build-arg', key: 'allowSecretBuildArg', value: 'NAME', repeatable: true, help: 'let --build-arg NAME through although it carries a secret (it will be in the image history)' },
  { name: '--report', key: 'report', value: 'FILE', help: 'write a JSON report of the run (ids, sources, lengths, argv with paths, timings; never a value)' },
  { name: '--verify', key: 'verify', help: 'after the build, search the image for the secrets (layers, config, history; see secbuild verify) and fail with exit 4 on a hit' },
];

/** docker build flags that take a value (long and short names). */
const DOCKER_VALUE_FLAGS = new Set([
  '--add-host', '--allow', '--annotation', '--attest', '--build-arg', '--build-context', '--builder',
  '--cache-from', '--cache-to', '--call', '--cgroup-parent', '--file', '-f', '--iidfile', '--label',
  '--metadata-file', '--network', '--no-cache-filter', '--output', '-o', '--platform', '--progress',
  '--provenance', '--sbom', '--shm-size', '--ssh', '--tag', '-t', '--target', '--ulimit',
  // classic builder
  '--cpu-period', '--cpu-quota', '--cpu-shares', '-c', '--cpuset-cpus', '--cpuset-mems', '--isolation',
  '--memory', '-m', '--memory-swap', '--security-opt',
]);

/** The options `build` and `compose build` share: where secrets come from, where files go, the leak guards. */
export interface SecretRunOptions {
  secrets: string[];
  netrc: string[];
  npmrc: string[];
  config?: string;
  dryRun: boolean;
  tmpdir?: string;
  requireTmpfs: boolean;
  docker?: string;
  mask: boolean;
  noMask: boolean;
  allowSecretBuildArg: string[];
  report?: string;
}

export interface BuildArgs extends SecretRunOptions {
  verify: boolean;
  help: boolean;
  /** Everything else, verbatim and in order (context included). */
  dockerArgs: string[];
  /** Index of the build context within dockerArgs (last positional). */
  contextIndex: number;
  /** Values of docker flags secbuild needs to read: -f, --target, --build-arg. */
  file?: string;
  target?: string;
  buildArgs: string[];
}

export function parseBuildArgs(argv: readonly string[]): BuildArgs {
  const out: BuildArgs = {
    secrets: [], netrc: [], npmrc: [], dryRun: false, requireTmpfs: false, mask: false, noMask: false, allowSecretBuildArg: [], verify: false,
    help: false, dockerArgs: [], contextIndex: -1, buildArgs: [],
  };
  const positionals: number[] = [];
  const seen = new Set<string>();
  const take = (flag: string, inline: string | undefined, i: number): [string, number] => {
    if (inline !== undefined) return [inline, i];
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value; see secbuild build --help.`);
    return [argv[i + 1]!, i + 1];
  };
  const noteDocker = (flag: string, value: string) => {
    if (flag === '-f' || flag === '--file') out.file = value;
    else if (flag === '--target') out.target = value;
    else if (flag === '--build-arg') out.buildArgs.push(value);
  };

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      for (const rest of argv.slice(i + 1)) {
        positionals.push(out.dockerArgs.length);
        out.dockerArgs.push(rest);
      }
      break;
    }
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg : arg.slice(0, eq);
      const inline = eq === -1 ? undefined : arg.slice(eq + 1);
      const own = OWN_OPTIONS.find((o) => o.name === name);
      if (own) {
        if (!own.value) {
          if (inline !== undefined) throw new UsageError(`${name} takes no value.`);
          (out as unknown as Record<string, boolean>)[own.key] = true;
          continue;
        }
        if (!own.repeatable && seen.has(name)) throw new UsageError(`${name} is given twice; give it once.`);
        seen.add(name);
        const [value, next] = take(name, inline, i);
        i = next;
        if (own.repeatable) (out as unknown as Record<string, string[]>)[own.key]!.push(value);
        else (out as unknown as Record<string, string>)[own.key] = value;
        continue;
      }
      out.dockerArgs.push(arg);
      if (DOCKER_VALUE_FLAGS.has(name) && inline === undefined) {
        const [value, next] = take(name, undefined, i);
        out.dockerArgs.push(value);
        noteDocker(name, value);
        i = next;
      } else if (inline !== undefined) noteDocker(name, inline);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // Short flags: -t app, -tapp, -t=app; booleans like -q pass as they are.
      const short = arg.slice(0, 2);
      out.dockerArgs.push(arg);
      if (DOCKER_VALUE_FLAGS.has(short)) {
        if (arg.length > 2) noteDocker(short, arg.slice(arg[2] === '=' ? 3 : 2));
        else {
          const [value, next] = take(short, undefined, i);
          out.dockerArgs.push(value);
          noteDocker(short, value);
          i = next;
        }
      }
      continue;
    }
    positionals.push(out.dockerArgs.length);
    out.dockerArgs.push(arg);
  }
  if (out.mask && out.noMask) throw new UsageError('--mask and --no-mask contradict each other; give one.');
  if (positionals.length > 1) {
    const extra = positionals.map((p) => `"${out.dockerArgs[p]}"`).join(', ');
    throw new UsageError(`docker build takes one build context, got ${extra}; check for a flag value missing its flag.`);
  }
  out.contextIndex = positionals[0] ?? -1;
  return out;
}

/** Help lines for a list of options, names padded to one column. */
export function optionLines(options: readonly Pick<OwnOption, 'name' | 'value' | 'help'>[]): string[] {
  const label = (o: Pick<OwnOption, 'name' | 'value'>) => (o.value ? `${o.name} ${o.value}` : o.name);
  const width = Math.max(...options.map((o) => label(o).length));
  return options.map((o) => `  ${label(o).padEnd(width)}  ${o.help}`);
}

export function buildHelp(): string {
  const lines = optionLines(OWN_OPTIONS);
  return [
    'Usage: secbuild [build] [secbuild options] [docker build options] CONTEXT',
    '',
    'Runs docker build with BuildKit secret mounts. Options not listed here go to docker build unchanged.',
    '',
    'secbuild options:',
    ...lines,
    '',
    'References (REF): env:NAME  file:PATH  keychain:SERVICE/ACCOUNT  cmd:COMMAND',
    '',
  ].join('\n');
}
