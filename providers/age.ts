/**
 * `age:FILE` with `identity=REF` — a file encrypted with age (age-encryption.org),
 * decrypted by the `age` CLI with an identity that another provider gives.
 *
 *   age-keygen -o key.txt; age -r age1… -o tok.age tok.txt
 *   secbuild --secret id=tok,from=age:tok.age,identity=file:key.txt -t app .
 *   secbuild --secret id=tok,from=age:tok.age,identity=keychain:age/ci exec -- ./deploy.sh
 *
 *   # secbuild.yml
 *   secrets:
 *     tok: { from: "age:secrets/tok.age", identity: "env:AGE_IDENTITY" }
 *
 * FILE is relative to the working directory (to secbuild.yml's directory in
 * the config); `~` is HOME. The identity (an `AGE-SECRET-KEY-1…` file's
 * text) is resolved first like any secret, masked like one, and handed to
 * `age --decrypt -i - FILE` on its standard input (a pipe): never argv,
 * never a file. `age` gets only PATH. The plaintext is the value, byte-exact.
 * A FILE that does not exist is `MissingSecret`; a wrong identity or a file
 * that is not age is an error naming the file, never what age printed.
 */
import { homedir } from 'node:os';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { cliVersion, runStoreCli, storeEnv } from './store-cli.js';
import { MissingSecret, ProviderError, type SecretProvider } from './types.js';

const INSTALL = 'install it (apt-get install age, brew install age)';

export const ageProvider = {
  scheme: 'age',
  usage: 'age:FILE,identity=REF an age-encrypted file, decrypted with the identity REF gives',
  takes: { identity: 'required' },
  check(key) {
    if (key === '') return 'the file path is empty';
    if (key.startsWith('-')) return 'the file path starts with "-"';
    if (/[\0\n\r]/.test(key)) return 'the file path holds a control character';
    return undefined;
  },
  describe: (key) => `age:${key}`,
  // Used: an age: reference in the specs (age has no variables of its own).
  async readiness(ctx) {
    const used = ctx.refs.length > 0;
    const version = await cliVersion('age', ['--version'], storeEnv(ctx, []));
    const how = INSTALL.replace('install it ', '');
    if (!version) return { store: 'age', ok: false, used, text: used ? `the age command is not installed; age: references will fail until it is ${how}` : `age: references need the age command: ${how.slice(1, -1)}` };
    return { store: 'age', ok: true, used, text: `age ${version.replace(/^age /, '')} found (files are decrypted when a build needs them)` };
  },
  async resolve(key, ctx) {
    const ref = `age:${key}`;
    const identity = ctx.inputs?.identity;
    if (!identity) throw new ProviderError(`${ref}: no identity; give identity=REF in the same spec (for example --secret id=t,from=${ref},identity=file:key.txt)`);
    const home = ctx.env.HOME || homedir();
    const path = key === '~' || key.startsWith('~/') ? join(home, key.slice(1)) : isAbsolute(key) ? key : resolve(ctx.cwd, key);
    if (!existsSync(path)) throw new MissingSecret(`${ref}: no file ${path}; check the path (relative paths are from the working directory, or secbuild.yml's)`);
    const r = await runStoreCli({ ref, tool: 'age', install: INSTALL, env: storeEnv(ctx, []), input: identity }, ['--decrypt', '-i', '-', '--', path], ctx);
    if (r.exitCode !== 0) {
      if (/no identity matched|incorrect HMAC|no identities/i.test(r.stderr)) {
        throw new ProviderError(`${ref}: the identity does not decrypt ${path} (it was encrypted to another recipient); check identity=`);
      }
      if (/failed to read|malformed|secret key|parse/i.test(r.stderr)) {
        throw new ProviderError(`${ref}: age could not read ${path} or the identity (is the file age-encrypted, and the identity an AGE-SECRET-KEY-1… key?); try: age -d -i KEYFILE ${path}`);
      }
      throw new ProviderError(`${ref}: age exited with code ${r.exitCode ?? 'unknown'} decrypting ${path}; try: age -d -i KEYFILE ${path}`);
    }
    return r.stdout;
  },
} satisfies SecretProvider;
