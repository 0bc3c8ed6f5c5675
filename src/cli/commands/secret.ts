/**
 * `secbuild secret set|rm SERVICE/ACCOUNT`: manage keychain items in the
 * keytar schema. The value comes from stdin, or from a hidden prompt on a
 * terminal; it never appears in argv.
 */
import { keychainDelete, keychainSet, parseKeychainKey } from '../../../providers/keychain.js';
import { ProviderError } from '../../../providers/types.js';
import { scrubEnv } from '../../run/env.js';
import { ResolveError, UsageError } from '../../util/errors.js';
import { MAX_SECRET_BYTES, sizeText } from '../../secrets/limits.js';
import { info } from '../../util/log.js';

function item(key: string) {
  const it = parseKeychainKey(key);
  if (!it) throw new UsageError(`"${key}" is not SERVICE/ACCOUNT; write for example: secbuild secret set npm/ci`);
  return it;
}

/** stdin up to MAX_SECRET_BYTES + 1 bytes and no further: `yes | secbuild secret set …` stops at once. */
async function readStdin(key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    total += (c as Buffer).length;
    if (total > MAX_SECRET_BYTES) throw tooLarge(key);
  }
  return Buffer.concat(chunks, total);
}

const tooLarge = (key: string, how = 'on stdin') =>
  new UsageError(`the value ${how} for ${key} is larger than ${sizeText(MAX_SECRET_BYTES)}, the most BuildKit mounts as a secret; nothing was stored.`);

function promptHidden(key: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(`value for ${key}: `);
    stdin.setRawMode(true);
    stdin.resume();
    const bytes: number[] = [];
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(Buffer.from(bytes));
    };
    const onData = (chunk: Buffer) => {
      for (const b of chunk) {
        if (b === 0x0d || b === 0x0a) return done();
        if (b === 0x03) return done(new UsageError('cancelled; nothing was stored.'));
        if (b === 0x7f || b === 0x08) bytes.pop();
        else if (bytes.length >= MAX_SECRET_BYTES) return done(tooLarge(key, 'typed'));
        else bytes.push(b);
      }
    };
    stdin.on('data', onData);
  });
}

/** secret-tool needs the session (D-Bus address, HOME); no secret is read from the environment here. */
const keychainEnv = () => scrubEnv(process.env, new Set());

function wrap(err: unknown): never {
  if (err instanceof ProviderError) throw new ResolveError(`keychain: ${err.message}`);
  throw err;
}

export async function secretSetCommand(key: string): Promise<void> {
  const it = item(key);
  const value = process.stdin.isTTY ? await promptHidden(key) : await readStdin(key);
  if (value.length === 0) throw new UsageError(`no value given for ${key}; pipe it on stdin (for example: gh auth token | secbuild secret set ${key}).`);
  await keychainSet(it, value, keychainEnv()).catch(wrap);
  info(`stored ${value.length} bytes as keychain item service="${it.service}" account="${it.account}"`);
  if (value[value.length - 1] === 0x0a) info('the value ends with a newline and was stored byte-exact; pipe it with printf %s to leave it out.');
}

export async function secretRmCommand(key: string): Promise<void> {
  const it = item(key);
  const removed = await keychainDelete(it, keychainEnv()).catch(wrap);
  if (!removed) throw new ResolveError(`no keychain item with service "${it.service}" and account "${it.account}"; nothing was removed.`);
  info(`removed keychain item service="${it.service}" account="${it.account}"`);
}
