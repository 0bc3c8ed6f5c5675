/**
 * docker build's own flags, as far as secbuild needs to know them: which take
 * a value (so that `-t app .` is read as a flag, its value and a context, not
 * two contexts) and, for a later typo check, every name there is.
 *
 * The list follows docker/buildx commands/build.go (buildFlags and
 * commonBuildFlags) plus the classic builder's flags of docker/cli
 * (cli/command/image/build.go).
 */
import type { OptionSpec } from './options.js';

/** docker build flags that take a value: long name, short alias. */
const VALUE_FLAGS: ReadonlyArray<readonly [string, string?]> = [
  ['--add-host'], ['--allow'], ['--annotation'], ['--attest'], ['--build-arg'], ['--build-context'], ['--builder'],
  ['--cache-from'], ['--cache-to'], ['--call'], ['--cgroup-parent'], ['--file', '-f'], ['--iidfile'], ['--label'],
  ['--metadata-file'], ['--network'], ['--no-cache-filter'], ['--output', '-o'], ['--platform'], ['--progress'],
  ['--provenance'], ['--sbom'], ['--secret'], ['--shm-size'], ['--ssh'], ['--tag', '-t'], ['--target'], ['--ulimit'],
  // classic builder
  ['--cpu-period'], ['--cpu-quota'], ['--cpu-shares', '-c'], ['--cpuset-cpus'], ['--cpuset-mems'], ['--isolation'],
  ['--memory', '-m'], ['--memory-swap'], ['--security-opt'],
];

/** docker build switches. They may be written `--push=false`, so secbuild passes them on as they are. */
const SWITCHES: ReadonlyArray<readonly [string, string?]> = [
  ['--check'], ['--load'], ['--no-cache'], ['--print'], ['--pull'], ['--push'], ['--quiet', '-q'],
  // classic builder
  ['--compress'], ['--disable-content-trust'], ['--force-rm'], ['--rm'], ['--squash'], ['--stream'],
];

/** Every docker build flag name, long and short, value-taking or not (`--secret` included, although secbuild takes it). */
export const DOCKER_BUILD_FLAGS: ReadonlySet<string> = new Set(
  [...VALUE_FLAGS, ...SWITCHES].flatMap(([name, short]) => (short ? [name, short] : [name])),
);

/** docker build's value-taking flags as option specs (repeatable: docker takes the last or all). */
export const DOCKER_VALUE_OPTIONS: readonly OptionSpec<'dockerFlag'>[] = VALUE_FLAGS.map(([name, short]) => ({
  name,
  ...(short ? { short } : {}),
  value: 'VALUE',
  repeatable: true,
  key: 'dockerFlag',
}));
