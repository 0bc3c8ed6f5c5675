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
  check: (key) => (NAME.test(key) ? undefined : `"${key}" is not a valid environment variable name`),
  describe: (key) => `env:${key}`,
  envVars: (key) => [key],
  async resolve(key, ctx) {
    const value = ctx.env[key];
    if (value === undefined) throw new MissingSecret(`environment variable ${key} is not set`);
    return Buffer.from(value, 'utf8');
  },
} satisfies SecretProvider;
