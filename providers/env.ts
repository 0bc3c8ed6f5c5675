/**
 * `env:NAME` — the value of an environment variable, as UTF-8 bytes.
 *
 *   secbuild --secret id=npm,from=env:NPM_TOKEN -t app .
 *
 *   # secbuild.yml
 *   secrets:
 *     npm: { from: env:NPM_TOKEN }
 *
 * The variable is removed from the environment of docker and of every other
 * child process secbuild starts.
 */
import { MissingSecret, type SecretProvider } from './types.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const envProvider = {
  scheme: 'env',
  usage: 'env:NAME              an environment variable',
  // The name is not repeated: a text that is no variable name may be the credential itself.
  check: (key) => (NAME.test(key) ? undefined : 'the text after it is not a valid environment variable name (letters, digits and "_", not starting with a digit)'),
  describe: (key) => `env:${key}`,
  envVars: (key) => [key],
  async resolve(key, ctx) {
    const value = ctx.env[key];
    if (value === undefined) throw new MissingSecret(`environment variable ${key} is not set`);
    return Buffer.from(value, 'utf8');
  },
} satisfies SecretProvider;
