/**
 * secbuild's own options: the one table that `build` takes whole, `compose`
 * takes without --verify (plus --engine and --parallel, see compose.ts),
 * `verify` and the commander layer take a subset of. None of these names is
 * passed on to docker; --secret shadows docker's own --secret on purpose.
 */
import { UsageError } from '../util/errors.js';
import type { OptionSpec } from './options.js';

/** A field of SecretRunOptions (or BuildArgs' `verify`) that an own option fills. */
export type OwnKey = 'secrets' | 'netrc' | 'npmrc' | 'sshKeys' | 'config' | 'dryRun' | 'tmpdir' | 'requireTmpfs' | 'builder' | 'docker' | 'podman' | 'mask' | 'noMask' | 'allowSecretBuildArg' | 'report' | 'verify' | 'context' | 'host';

export interface OwnOption<K extends string = OwnKey> extends OptionSpec<K> {
  help: string;
}

/** secbuild's own options. None of these names is a docker build flag that secbuild passes on. */
export const OWN_OPTIONS: readonly OwnOption[] = [
  { name: '--secret', key: 'secrets', value: 'SPEC', repeatable: true, help: 'a secret: id=ID,from=REF | docker forms id=ID,src=PATH | id=ID,env=VAR | id=ID; add ",optional" to allow it to be absent' },
  { name: '--netrc', key: 'netrc', value: 'SPEC', repeatable: true, help: 'a .netrc entry: machine=HOST,login=LOGIN,password=REF[,id=ID] (one file, id netrc)' },
  { name: '--npmrc', key: 'npmrc', value: 'SPEC', repeatable: true, help: 'an .npmrc entry: registry=URL,token=REF[,scope=@SCOPE][,id=ID] (one file, id npmrc)' },
  { name: '--ssh-key', key: 'sshKeys', value: '[ID=]REF', repeatable: true, help: 'an SSH private key for RUN --mount=type=ssh[,id=ID] (ID default: default), loaded into a private ssh-agent for this build only; repeat for more keys' },
  { name: '--config', key: 'config', value: 'PATH', help: 'config file (default: ./secbuild.yml when present)' },
  { name: '--dry-run', key: 'dryRun', help: 'resolve and check everything, print the docker command, do not run it' },
  { name: '--tmpdir', key: 'tmpdir', value: 'DIR', help: 'root for the run directory (default: $SECBUILD_TMPDIR, $XDG_RUNTIME_DIR or /dev/shm when tmpfs)' },
  { name: '--require-tmpfs', key: 'requireTmpfs', help: 'fail instead of warning when the secret files would not be memory-backed' },
  { name: '--engine', key: 'builder', value: 'docker|podman', help: 'build with docker or podman (default: $SECBUILD_ENGINE, else docker; podman when only podman is installed)' },
  { name: '--docker', key: 'docker', value: 'PATH', help: 'docker binary to run (default: $SECBUILD_DOCKER, else docker on PATH)' },
  { name: '--podman', key: 'podman', value: 'PATH', help: 'podman binary to run, implies --engine podman (default: $SECBUILD_PODMAN, else podman on PATH)' },
  { name: '--mask', key: 'mask', help: "mask secret values in docker's output even on a terminal (docker then gets --progress=plain)" },
  { name: '--no-mask', key: 'noMask', help: "do not mask docker's output (masking is on whenever stdout or stderr is not a terminal)" },
  { name: '--allow-secret-build-arg', key: 'allowSecretBuildArg', value: 'NAME', repeatable: true, help: 'let --build-arg NAME through although it carries a secret (it will be in the image history)' },
  { name: '--report', key: 'report', value: 'FILE', help: 'write a JSON report of the run (ids, sources, lengths, argv with paths, timings; never a value)' },
  { name: '--context', key: 'context', value: 'NAME', help: "docker's global --context: every docker command of the run (probes, build, compose, --verify) addresses that context's daemon (as DOCKER_CONTEXT, and DOCKER_HOST is ignored)" },
  { name: '--host', short: '-H', key: 'host', value: 'URL', help: "docker's global -H/--host: every docker command of the run addresses the daemon at URL (as DOCKER_HOST)" },
  { name: '--verify', key: 'verify', help: 'after the build, search the image for the secrets (layers, config, history; see secbuild verify) and fail with exit 4 on a hit' },
];

/** `-h` / `--help`, for every parser's table; not listed in help text. */
export const HELP_OPTION = { name: '--help', short: '-h', key: 'help' } as const satisfies OptionSpec<'help'>;

/** The options `build` and `compose build` share: where secrets come from, where files go, the leak guards. */
/** Where secrets come from: the flags build, compose, check, verify and `secrets` share. */
export interface SecretFlags {
  secrets: string[];
  netrc: string[];
  npmrc: string[];
  /** `--ssh-key [ID=]REF` values (src/secrets/ssh.ts). */
  sshKeys?: string[];
  config?: string;
  /** --secret may carry uid=, gid=, mode= (secbuild run: a container's user reads the file); other commands refuse them. */
  secretOwnership?: boolean;
}

export interface SecretRunOptions extends SecretFlags {
  dryRun: boolean;
  tmpdir?: string;
  requireTmpfs: boolean;
  /** --engine: docker or podman (checked by src/engines/select.ts). */
  builder?: string;
  docker?: string;
  podman?: string;
  mask: boolean;
  noMask: boolean;
  allowSecretBuildArg: string[];
  report?: string;
  /** docker's global --context and -H/--host (src/engines/docker/daemon.ts). */
  context?: string;
  host?: string;
}

/** SecretRunOptions with every default filled in. */
export const secretRunDefaults = (): SecretRunOptions => ({
  secrets: [], netrc: [], npmrc: [], sshKeys: [], dryRun: false, requireTmpfs: false, mask: false, noMask: false, allowSecretBuildArg: [],
});

/** Writes an own option into `out`: a switch sets true, a repeatable option appends, any other sets its value. */
export function applyOwn(out: object, spec: OptionSpec<string>, value: string | undefined): void {
  const fields = out as Record<string, unknown>;
  if (value === undefined) fields[spec.key] = true;
  else if (spec.repeatable) ((fields[spec.key] ??= []) as string[]).push(value);
  else fields[spec.key] = value;
}

/** Checks that hold across own options once the whole line is read. */
export function checkOwn(out: Pick<SecretRunOptions, 'mask' | 'noMask' | 'context' | 'host'>): void {
  if (out.mask && out.noMask) throw new UsageError('--mask and --no-mask contradict each other; give one.');
  checkDaemonFlags(out);
}

/** docker's own rule: one daemon, named by --context or by -H, not both. */
export function checkDaemonFlags(out: Pick<SecretRunOptions, 'context' | 'host'>): void {
  if (out.context !== undefined && out.host !== undefined) throw new UsageError('--context and -H/--host both name the daemon; give one (docker refuses both too).');
}

/** Help lines for a list of options, names padded to one column. */
export function optionLines(options: readonly Pick<OwnOption<string>, 'name' | 'value' | 'help'>[]): string[] {
  const label = (o: Pick<OwnOption<string>, 'name' | 'value'>) => (o.value ? `${o.name} ${o.value}` : o.name);
  const width = Math.max(...options.map((o) => label(o).length));
  return options.map((o) => `  ${label(o).padEnd(width)}  ${o.help}`);
}
