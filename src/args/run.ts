/**
 * `secbuild run [secbuild options] [docker run options] IMAGE [COMMAND [ARG…]]`:
 * secbuild's own options (accepted before IMAGE), docker run's options
 * verbatim and in order, the image, and the command, verbatim. Pure.
 *
 * docker run's value-taking flags follow docker/cli
 * cli/command/container/opts.go (addFlags) and run.go, so that `-p 80:80 app`
 * is read as a flag, its value and the image. `-h` is docker's --hostname
 * here: secbuild's help is --help only.
 */
import { helpTail } from './help.js';
import { parseOptions, type OptionSpec } from './options.js';
import { applyOwn, checkOwn, optionLines, OWN_OPTIONS, secretRunDefaults, type OwnKey, type OwnOption, type SecretRunOptions } from './own.js';
import { UsageError } from '../util/errors.js';

export interface RunArgs extends SecretRunOptions {
  help: boolean;
  /** docker run's options, verbatim and in order. */
  dockerArgs: string[];
  image: string;
  /** The container's command and its arguments, verbatim. */
  command: string[];
  /** -d / --detach: the secret files outlive secbuild while the container exists (src/run/keeper.ts). */
  detach: boolean;
  /** --rm: docker removes the container when it exits. */
  rm: boolean;
  /** docker's flags whose values the container's config records (--env, --env-file, --label, --label-file), by long name: for the guard. */
  recorded: Array<{ flag: string; value: string }>;
}

/** docker run's flags that take a value: long name, short alias. */
const VALUE_FLAGS: ReadonlyArray<readonly [string, string?]> = [
  ['--add-host'], ['--annotation'], ['--attach', '-a'], ['--blkio-weight'], ['--blkio-weight-device'], ['--cap-add'], ['--cap-drop'],
  ['--cgroup-parent'], ['--cgroupns'], ['--cidfile'], ['--cpu-count'], ['--cpu-percent'], ['--cpu-period'], ['--cpu-quota'],
  ['--cpu-rt-period'], ['--cpu-rt-runtime'], ['--cpu-shares', '-c'], ['--cpus'], ['--cpuset-cpus'], ['--cpuset-mems'],
  ['--detach-keys'], ['--device'], ['--device-cgroup-rule'], ['--device-read-bps'], ['--device-read-iops'], ['--device-write-bps'],
  ['--device-write-iops'], ['--dns'], ['--dns-opt'], ['--dns-option'], ['--dns-search'], ['--domainname'], ['--entrypoint'],
  ['--env', '-e'], ['--env-file'], ['--expose'], ['--gpus'], ['--group-add'], ['--health-cmd'], ['--health-interval'],
  ['--health-retries'], ['--health-start-interval'], ['--health-start-period'], ['--health-timeout'], ['--hostname', '-h'],
  ['--io-maxbandwidth'], ['--io-maxiops'], ['--ip'], ['--ip6'], ['--ipc'], ['--isolation'], ['--kernel-memory'], ['--label', '-l'],
  ['--label-file'], ['--link'], ['--link-local-ip'], ['--log-driver'], ['--log-opt'], ['--mac-address'], ['--memory', '-m'],
  ['--memory-reservation'], ['--memory-swap'], ['--memory-swappiness'], ['--mount'], ['--name'], ['--net'], ['--net-alias'],
  ['--network'], ['--network-alias'], ['--oom-score-adj'], ['--pid'], ['--pids-limit'], ['--platform'], ['--publish', '-p'],
  ['--pull'], ['--restart'], ['--runtime'], ['--security-opt'], ['--shm-size'], ['--stop-signal'], ['--stop-timeout'],
  ['--storage-opt'], ['--sysctl'], ['--tmpfs'], ['--ulimit'], ['--user', '-u'], ['--userns'], ['--uts'], ['--volume', '-v'],
  ['--volume-driver'], ['--volumes-from'], ['--workdir', '-w'],
];
/** docker run's flags whose values docker records in the container config (docker inspect): the guard reads them (src/guards/build-args.ts). */
const RECORDED = new Set(['--env', '--env-file', '--label', '--label-file', '--annotation']);
const VALUE_SHORTS = new Set(VALUE_FLAGS.flatMap(([, s]) => (s ? [s[1]!] : [])));

/** run's wording where it differs from build's. */
const RUN_HELP: Partial<Record<OwnKey, string>> = {
  secrets: 'a secret, as for secbuild build: bind-mounted read-only from a private tmpfs file at /run/secrets/ID; add uid=,gid=,mode= (e.g. uid=1000,mode=0400) for a non-root --user (default: yours, 0600)',
  dryRun: 'resolve and check everything, print the docker run command (paths, never values), run nothing',
  mask: "mask secret values in the container's output even on a terminal",
  noMask: "do not mask the container's output (masking is on whenever stdout or stderr is not a terminal)",
  report: 'write a JSON report of the run (ids, sources, lengths, the docker argv, its exit code; never a value)',
};

/** build's own options that mean something to run. */
export const RUN_OPTIONS: readonly OwnOption[] = OWN_OPTIONS.filter((o) => !['sshKeys', 'builder', 'podman', 'verify', 'allowSecretBuildArg'].includes(o.key)).map((o) => ({
  ...o,
  help: RUN_HELP[o.key] ?? o.help,
}));

type RunSpec = OptionSpec<OwnKey | 'help' | 'docker-value'>;
const HELP: RunSpec = { name: '--help', key: 'help' };
const DOCKER_VALUE: readonly RunSpec[] = VALUE_FLAGS.map(([name, short]) => ({ name, ...(short ? { short } : {}), value: 'VALUE', repeatable: true, key: 'docker-value' as const }));
const OWN_SPECS: ReadonlySet<RunSpec> = new Set(RUN_OPTIONS);
const OPTIONS: readonly RunSpec[] = [HELP, ...RUN_OPTIONS, ...DOCKER_VALUE];

/** `--detach=false`, `--rm=true`: docker's boolean flags with an explicit value. */
function switchValue(inline: string | undefined): boolean {
  return inline === undefined || !/^(false|0)$/i.test(inline);
}

export function parseRunArgs(argv: readonly string[]): RunArgs {
  const out: RunArgs = { ...secretRunDefaults(), help: false, dockerArgs: [], image: '', command: [], detach: false, rm: false, recorded: [], secretOwnership: true };
  let rest: string[] | undefined;
  parseOptions(argv, {
    command: 'secbuild run',
    options: OPTIONS,
    option: (hit) => {
      if (hit.spec.key === 'help') out.help = true;
      else if (OWN_SPECS.has(hit.spec)) applyOwn(out, hit.spec, hit.value);
      else {
        if (hit.spec.name === '--cidfile') throw new UsageError('--cidfile: secbuild run writes its own container-id file (to stop the container on every exit path); leave --cidfile out.');
        if (RECORDED.has(hit.spec.name)) out.recorded.push({ flag: hit.spec.name, value: hit.value! });
        out.dockerArgs.push(...hit.words);
      }
    },
    unknown: (word, name, inline) => {
      if (!word.startsWith('--')) {
        // A bundle of docker's one-letter switches (-dit); a value-taking letter inside one would swallow the next word.
        const letters = word.slice(1);
        const valued = [...letters].find((l) => VALUE_SHORTS.has(l));
        if (valued) throw new UsageError(`${word}: -${valued} takes a value; write it on its own (-${valued} VALUE) so the image is found.`);
        if (letters.includes('d')) out.detach = true;
      } else if (name === '--detach') out.detach = switchValue(inline);
      else if (name === '--rm') out.rm = switchValue(inline);
      out.dockerArgs.push(word);
    },
    positional: () => {},
    rest: (words) => {
      rest = words;
    },
    restFromPositional: true,
  });
  checkOwn(out);
  if (out.help) return out;
  const [image, ...command] = rest ?? [];
  if (!image) throw new UsageError('secbuild run needs an image: secbuild run [options] IMAGE [COMMAND [ARG...]].');
  out.image = image;
  out.command = command;
  return out;
}

export function runHelp(): string {
  return [
    'Usage: secbuild run [secbuild options] [docker run options] IMAGE [COMMAND [ARG...]]',
    '',
    'Runs `docker run` with secrets: each one is a 0600 file in a private tmpfs run directory, bind-mounted',
    'read-only at /run/secrets/ID; nothing goes into the container\'s environment or config. In the foreground',
    'the files are removed, and the container stopped, on every exit path (SIGKILL of secbuild included).',
    'With -d a keeper process holds the files until the container is removed (docker rm, --rm).',
    "The daemon must be on this machine: a remote DOCKER_HOST or context, or Docker Desktop's VM, is refused.",
    '--env/--env-file/--label values that carry a secret are refused: they would be in docker inspect.',
    '',
    'Options:',
    ...optionLines(RUN_OPTIONS),
    '',
    helpTail({
      examples: [
        'secbuild run --rm --secret id=db,from=keychain:acme/db app:latest',
        'secbuild run -d --name api --secret id=db,from=env:DB_PASSWORD app:latest',
      ],
      exits: [
        [0, 'the container exited 0 (with -d: it was started)'],
        [2, "usage or config error, or a remote daemon or Docker Desktop's: docker was not run"],
        [3, 'a secret could not be resolved: docker was not run'],
        [4, 'an --env, --env-file or --label value carries a secret (docker inspect would show it): docker was not run'],
        ['N', "docker run's own exit code (the container's); 128+N when ended by signal N"],
      ],
    }),
  ].join('\n');
}
