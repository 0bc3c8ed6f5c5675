/**
 * `secbuild verify [--secret …] [--netrc …] [--npmrc …] [--config PATH]
 * [--docker PATH] [--format text|json] IMAGE`: the secret flags are a build's
 * (same names and meaning, from src/args.ts OWN_OPTIONS), so a CI job can
 * verify with the flags it built with. Pure: argv in, a plain object out.
 */
import { OWN_OPTIONS } from './build.js';
import { UsageError } from '../util/errors.js';
import type { SecretFlags } from '../secrets/plan.js';

export type VerifyFormat = 'text' | 'json';

export interface VerifyArgs extends SecretFlags {
  docker?: string;
  format: VerifyFormat;
  image?: string;
  help: boolean;
}

const TAKEN = ['secrets', 'netrc', 'npmrc', 'config', 'docker'] as const;
const OPTIONS = OWN_OPTIONS.filter((o) => (TAKEN as readonly string[]).includes(o.key));

export function parseVerifyArgs(argv: readonly string[]): VerifyArgs {
  const out: VerifyArgs = { secrets: [], netrc: [], npmrc: [], format: 'text', help: false };
  const positionals: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const own = OPTIONS.find((o) => o.name === name);
    if (!own && name !== '--format') {
      throw new UsageError(`secbuild verify does not take ${name}; it takes ${[...OPTIONS.map((o) => o.name), '--format'].join(', ')} and an image (see secbuild verify --help).`);
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i]!;
    else throw new UsageError(`${name} needs a value; see secbuild verify --help.`);
    if (!own) {
      if (value !== 'text' && value !== 'json') throw new UsageError(`--format must be text or json, got "${value}".`);
      if (seen.has(name)) throw new UsageError('--format is given twice; give it once.');
      seen.add(name);
      out.format = value;
      continue;
    }
    if (own.repeatable) {
      (out[own.key as 'secrets' | 'netrc' | 'npmrc'] as string[]).push(value);
      continue;
    }
    if (seen.has(name)) throw new UsageError(`${name} is given twice; give it once.`);
    seen.add(name);
    out[own.key as 'config' | 'docker'] = value;
  }
  if (positionals.length > 1) throw new UsageError(`secbuild verify takes one image, got ${positionals.map((p) => `"${p}"`).join(', ')}.`);
  out.image = positionals[0];
  return out;
}

export function verifyHelp(): string {
  const rows = [...OPTIONS.map((o) => [`${o.name} ${o.value}`, o.help]), ['--format text|json', 'output: one line per leak and a summary (text), or the whole result (json)']];
  const width = Math.max(...rows.map(([n]) => n!.length));
  return [
    'Usage: secbuild verify [--secret SPEC …] [--netrc SPEC …] [--npmrc SPEC …] [--config PATH] [--docker PATH] [--format text|json] IMAGE',
    '',
    'Resolves the secrets a build would get and searches the local image for their values (and their base64 and',
    'URL-encoded forms): every layer (file names and contents), the image config and docker history.',
    'Hits name the layer and file, or the config field, and the secret id — never the value.',
    'Exit 0 when nothing is found, 4 when a secret is found, 2 on a usage error or an image that cannot be read, 3 when a secret does not resolve.',
    '',
    'Options:',
    ...rows.map(([n, h]) => `  ${n!.padEnd(width)}  ${h}`),
    '',
  ].join('\n');
}
