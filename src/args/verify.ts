/**
 * `secbuild verify [--secret …] [--netrc …] [--npmrc …] [--config PATH]
 * [--docker PATH] [--format text|json] IMAGE`: the secret flags are a build's
 * (same names and meaning, from src/args/own.ts OWN_OPTIONS), so a CI job can
 * verify with the flags it built with. Pure: argv in, a plain object out.
 */
import { parseOptions } from './options.js';
import { applyOwn, checkDaemonFlags, HELP_OPTION, optionLines, OWN_OPTIONS, type OwnOption, type SecretFlags } from './own.js';
import { helpTail } from './help.js';
import { UsageError } from '../util/errors.js';

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
  help: boolean;
}

const TAKEN = ['secrets', 'netrc', 'npmrc', 'sshKeys', 'config', 'builder', 'docker', 'podman', 'context', 'host'] as const;
const OPTIONS: readonly OwnOption<string>[] = [
  ...OWN_OPTIONS.filter((o) => (TAKEN as readonly string[]).includes(o.key)),
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
      else if (spec.key !== 'format') applyOwn(out, spec, value);
      else if (value === 'text' || value === 'json') out.format = value;
      else throw new UsageError(`--format must be text or json, got "${value}".`);
    },
    unknown: (word) => {
      throw new UsageError(`secbuild verify does not take ${word.split('=', 1)[0]}; it takes ${OPTIONS.map((o) => o.name).join(', ')} and an image (see secbuild verify --help).`);
    },
    positional: (word) => positionals.push(word),
  });
  if (positionals.length > 1) throw new UsageError(`secbuild verify takes one image, got ${positionals.map((p) => `"${p}"`).join(', ')}.`);
  checkDaemonFlags(out);
  out.image = positionals[0];
  return out;
}

export function verifyHelp(): string {
  return [
    'Usage: secbuild verify [--secret SPEC …] [--netrc SPEC …] [--npmrc SPEC …] [--ssh-key [ID=]REF …] [--config PATH] [--engine docker|podman] [--docker PATH] [--podman PATH] [--context NAME | -H URL] [--format text|json] IMAGE',
    '',
    'Resolves the secrets a build would get and searches the local image for their values (and their base64 and',
    'URL-encoded forms): every layer (file names and contents), the image config and docker history (podman: podman save and podman history).',
    'Hits name the layer and file, or the config field, and the secret id — never the value.',
    '',
    'Options:',
    ...optionLines(OPTIONS),
    '',
    helpTail({
      examples: ['secbuild verify --secret id=npm,from=env:NPM_TOKEN app:latest', 'secbuild verify --format json app:latest > verify.json'],
      exits: [[0, 'no secret found'], [2, 'usage error, or an image that cannot be read or searched'], [3, 'a secret could not be resolved'], [4, 'a secret was found in the image']],
    }),
  ].join('\n');
}
