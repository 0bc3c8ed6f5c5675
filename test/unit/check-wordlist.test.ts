import { describe, expect, test } from 'vitest';
import { ALLOW_WORDS, looksLikeSecretName, SECRET_WORDS } from '../../src/guards/wordlist.js';

describe("secret-in-arg-or-env: Docker's SecretsUsedInArgOrEnv word list", () => {
  test('the lists are the upstream ones (moby/buildkit dockerfile2llb/validations.go)', () => {
    expect(SECRET_WORDS).toEqual(['apikey', 'auth', 'credential', 'credentials', 'key', 'password', 'pword', 'passwd', 'secret', 'token']);
    expect(ALLOW_WORDS).toEqual(['public', 'file', 'version']);
  });

  test.each<[string, boolean]>([
    // upstream's own examples: api_key, DATABASE_PASSWORD, GITHUB_TOKEN, secret_MESSAGE, AUTH
    ['api_key', true],
    ['DATABASE_PASSWORD', true],
    ['GITHUB_TOKEN', true],
    ['secret_MESSAGE', true],
    ['AUTH', true],
    ['APIKEY', true],
    ['NODE_AUTH_TOKEN', true],
    ['aws_Credentials', true],
    ['DB_PWORD', true],
    ['ROOT_PASSWD', true],
    ['GPG_KEY', true],
    ['__TOKEN__', true],
    ['\u212AEY', true], // KELVIN SIGN folds to k under Go's (?i), as under the u flag
    // words are split at "_" only, and must match whole
    ['API-KEY', false],
    ['APIKEYS', false],
    ['TOKENS', false],
    ['MONKEY', false],
    ['KEYBOARD_LAYOUT', false],
    ['AUTHOR', false],
    ['PASSPHRASE', false],
    ['NODE_ENV', false],
    ['', false],
    // allow-list words win
    ['PUBLIC_KEY', false],
    ['SSH_KEY_FILE', false],
    ['TOKEN_VERSION', false],
    ['my_public_api_key', false],
  ])('%s → %s', (name, want) => {
    expect(looksLikeSecretName(name)).toBe(want);
  });
});
