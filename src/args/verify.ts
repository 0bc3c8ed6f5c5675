/**
 * `secbuild verify [--secret …] [--netrc …] [--npmrc …] [--config PATH]
 * [--docker PATH] [--format text|json] IMAGE`: the secret flags are a build's
 * (same names and meaning, from src/args/own.ts OWN_OPTIONS), so a CI job can
 * verify with the flags it built with. `--archive FILE` instead of IMAGE
 * searches an image archive on disk and asks no daemon, so the daemon flags
 * do not go with it. Pure: argv in, a plain object out.
 */
import { parseOptions } from './options.js';
import { applyOwn, checkDaemonFlags, HELP_OPTION, optionLines, OWN_OPTIONS, type OwnOption, type SecretFlags } from './own.js';
import { helpTail } from './help.js';
import { UsageError } from '../util/errors.js';
import { showTyped } from '../util/shown.js';

export type VerifyFormat = 'text' | 'json';

export interface VerifyArgs extends SecretFlags {
  builder?: string;
  docker?: string;
  podman?: string;
  /** docker's global --context and -H/--host: the daemon that holds the image. */
  context?: string;
  host?: string;
  format: VerifyFormat;
  image?: string;
  /** --archive FILE: an image archive on disk (docker save, an OCI layout tar), searched without a daemon. */
  archive?: string;
  help: boolean;
}

const TAKEN = ['secrets', 'netrc', 'npmrc', 'sshKeys', 'config', 'builder', 'docker', 'podman', 'context', 'host'] as const;
const OPTIONS: readonly OwnOption<string>[] = [
  ...OWN_OPTIONS.filter((o) => (TAKEN as readonly string[]).includes(o.key)),
  { name: '--archive', key: 'archive', value: 'FILE', help: 'search an image archive on disk instead of an IMAGE: docker save output or an OCI layout tar (buildx --output type=oci,dest=FILE), plain or gzip-compressed; no daemon is asked' },
  { name: '--format', key: 'format', value: 'text|json', help: 'output: one line per leak and a summary (text), or the whole result (json)' },
];

export function parseVerifyArgs(argv: readonly string[]): VerifyArgs {
  const out: VerifyArgs = { secrets: [], netrc: [], npmrc: [], sshKeys: [], format: 'text', help: false };
  const positionals: string[] = [];
  parseOptions(argv, {
    command: 'secbuild verify',
    options: [HELP_OPTION, ...OPTIONS],
    option: ({ spec, value }) => {
      if (spec.key === 'help') out.help = true;
      else if (spec.key === 'archive') out.archive = value;
      else if (spec.key !== 'format') applyOwn(out, spec, value);
      else if (value === 'text' || value === 'json') out.format = value;
      else throw new UsageError(`--format must be text or json, got "${showTyped(value ?? '')}".`);
    },
    unknown: (word) => {
      throw new UsageError(`secbuild verify does not take ${word.split('=', 1)[0]}; it takes ${OPTIONS.map((o) => o.name).join(', ')} and an image (see secbuild verify --help).`);
    },
    positional: (word) => positionals.push(word),
  });
  if (positionals.length > 1) throw new UsageError(`secbuild verify takes one image, got ${positionals.map((p) => `"${p}"`).join(', ')}.`);
  checkDaemonFlags(out);
  out.image = positionals[0];
  if (out.archive !== undefined) checkArchive(out, argv);
  return out;
}

/** The flags that name a daemon or its client: meaningless for a file, so refused rather than ignored. */
const DAEMON_FLAGS = OPTIONS.filter((o) => ['builder', 'docker', 'podman', 'context', 'host'].includes(o.key));

function checkArchive(out: VerifyArgs, argv: readonly string[]): void {
  if (out.image !== undefined) throw new UsageError(`secbuild verify takes --archive FILE or an image, not both (got --archive and "${out.image}").`);
  const given = DAEMON_FLAGS.filter((o) => out[o.key as keyof VerifyArgs] !== undefined);
  if (given.length === 0) return;
  // Name the flag as it was typed (-H or --host).
  const typed = given.map((o) => (o.short && argv.includes(o.short) ? o.short : o.name));
  throw new UsageError(`--archive reads a file and asks no daemon, so ${typed.join(', ')} cannot go with it; drop ${given.length === 1 ? 'it' : 'them'}.`);
}

export function verifyHelp(): string {
  return [
    'Usage: secbuild verify [--secret SPEC …] [--netrc SPEC …] [--npmrc SPEC …] [--ssh-key [ID=]REF …] [--config PATH] [--engine docker|podman] [--docker PATH] [--podman PATH] [--context NAME | -H URL] [--format text|json] IMAGE',
    '       secbuild verify [--secret SPEC …] [--netrc SPEC …] [--npmrc SPEC …] [--config PATH] [--format text|json] --archive FILE',
    '',
    'Resolves the secrets a build would get and searches the local image for their values (and their base64 and',
    'URL-encoded forms): every layer (file names and contents), the image config and docker history (podman: podman save and podman history).',
    'Hits name the layer and file, or the config field, and the secret id — never the value.',
    'With --archive FILE the same search runs on an image archive on disk (docker save -o FILE, buildx --output',
    'type=oci|docker,dest=FILE, skopeo copy … oci-archive:FILE; plain or gzip-compressed) and no daemon is asked.',
    '',
    'Options:',
    ...optionLines(OPTIONS),
    '',
    helpTail({
      examples: ['secbuild verify --secret id=npm,from=env:NPM_TOKEN app:latest', 'secbuild verify --format json app:latest > verify.json', 'secbuild verify --secret id=npm,from=env:NPM_TOKEN --archive image.tar'],
      exits: [[0, 'no secret found'], [2, 'usage error, or an image (or archive) that cannot be read or searched'], [3, 'a secret could not be resolved'], [4, 'a secret was found in the image']],
    }),
  ].join('\n');
}
