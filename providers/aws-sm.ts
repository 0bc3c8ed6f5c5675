/**
 * `aws-sm:NAME[?version-stage=STAGE|?version-id=ID][#JSON-KEY]` — a secret of
 * AWS Secrets Manager, read with `aws secretsmanager get-secret-value`
 * (./aws-cli.ts says why the CLI, and what it gets of the environment).
 *
 * - NAME is the secret's name or ARN.
 * - Without `#`, the value is the SecretString's UTF-8 bytes, or the
 *   SecretBinary's bytes (base64 from the CLI, decoded).
 * - `#KEY` takes one top-level key of a SecretString holding a JSON object
 *   (as the console's key/value secrets store them): a string as it is,
 *   anything else as its JSON text.
 * - `?version-stage=AWSPREVIOUS` or `?version-id=…` picks a version; the
 *   default is AWSCURRENT.
 *
 *   aws secretsmanager create-secret --name ci/npm --secret-string '{"token":"…","user":"ci"}'
 *   secbuild --secret id=npm,from=aws-sm:ci/npm#token -t app .
 *
 *   # secbuild.yml
 *   secrets:
 *     npm:  { from: "aws-sm:ci/npm#token" }
 *     cert: { from: "aws-sm:ci/signing-cert" }        # a SecretBinary
 *
 * Credentials and region are the CLI's: AWS_PROFILE, AWS_ACCESS_KEY_ID…,
 * AWS_REGION, AWS_ENDPOINT_URL. A secret that does not exist and a missing
 * JSON key are `MissingSecret` (an optional secret is skipped).
 */
import { awsJson, awsReadiness } from './aws-cli.js';
import { MissingSecret, ProviderError, type SecretProvider } from './types.js';

export interface SmKey {
  name: string;
  version: { flag: '--version-stage' | '--version-id'; value: string } | undefined;
  field: string | undefined;
}

export function parseSmKey(key: string): SmKey | string {
  const hash = key.indexOf('#');
  const field = hash < 0 ? undefined : key.slice(hash + 1);
  const head = hash < 0 ? key : key.slice(0, hash);
  const q = head.indexOf('?');
  const name = q < 0 ? head : head.slice(0, q);
  if (name === '') return 'the secret name is empty';
  if (name.startsWith('-')) return 'the secret name starts with "-"';
  if (field !== undefined && field === '') return 'the JSON key after "#" is empty';
  if (q < 0) return { name, version: undefined, field };
  const m = /^(version-stage|version-id)=(.+)$/.exec(head.slice(q + 1));
  if (!m) return 'after "?" write version-stage=STAGE or version-id=ID';
  return { name, version: { flag: m[1] === 'version-id' ? '--version-id' : '--version-stage', value: m[2]! }, field };
}

/** One key of a JSON object held in a SecretString; undefined when the key is absent. */
function jsonField(ref: string, text: string, field: string): Buffer | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ProviderError(`${ref}: the secret's SecretString is not JSON, so it has no key "${field}"; drop "#${field}" to take it whole`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ProviderError(`${ref}: the secret's SecretString is not a JSON object, so it has no key "${field}"; drop "#${field}" to take it whole`);
  }
  if (!Object.prototype.hasOwnProperty.call(doc, field)) return undefined;
  const v = (doc as Record<string, unknown>)[field];
  return Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8');
}

export const awsSmProvider = {
  scheme: 'aws-sm',
  usage: 'aws-sm:NAME[#KEY]     an AWS Secrets Manager secret (or one key of its JSON)',
  check(key) {
    const k = parseSmKey(key);
    return typeof k === 'string' ? k : undefined;
  },
  describe: (key) => `aws-sm:${key}`,
  readiness: awsReadiness,
  async resolve(key, ctx) {
    const k = parseSmKey(key) as SmKey;
    const ref = `aws-sm:${key}`;
    const args = ['get-secret-value', '--secret-id', k.name, ...(k.version ? [k.version.flag, k.version.value] : [])];
    const answer = await awsJson(ref, `secret "${k.name}"`, 'secretsmanager', args, ctx);
    const text = answer.SecretString;
    const binary = answer.SecretBinary;
    if (k.field !== undefined) {
      if (typeof text !== 'string') throw new ProviderError(`${ref}: the secret holds a SecretBinary, which has no JSON keys; drop "#${k.field}" to take it whole`);
      const v = jsonField(ref, text, k.field);
      if (v === undefined) throw new MissingSecret(`${ref}: the secret "${k.name}" has no JSON key "${k.field}"; add it, or check the name after "#"`);
      return v;
    }
    if (typeof text === 'string') return Buffer.from(text, 'utf8');
    if (typeof binary === 'string') return Buffer.from(binary, 'base64');
    throw new ProviderError(`${ref}: the answer held neither a SecretString nor a SecretBinary; check the version asked for`);
  },
} satisfies SecretProvider;
