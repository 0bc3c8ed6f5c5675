/**
 * A throw-away `pass` store for tests (as ../shared/recipes/scripts/pass-store.sh
 * makes one): a passphrase-less ed25519/cv25519 key in its own GNUPGHOME, a
 * store in its own directory, both under `root`. `stop()` ends the gpg-agent
 * of that GNUPGHOME only (gpgconf --kill) and removes both.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { onPath, type Missing } from './ci.js';

export interface PassStore {
  /** GNUPGHOME and PASSWORD_STORE_DIR for the provider's environment. */
  readonly env: { GNUPGHOME: string; PASSWORD_STORE_DIR: string };
  /** Stores `value` byte for byte (`pass insert -m`) under `name`. */
  insert(name: string, value: Buffer): void;
  stop(): void;
}

export function passMissing(): Missing {
  if (!onPath('pass')) return 'pass is not installed (apt-get install --no-install-recommends pass)';
  if (!onPath('gpg')) return 'gpg is not installed (apt-get install gnupg)';
  return undefined;
}

export function makePassStore(root: string): PassStore {
  const env = { GNUPGHOME: join(root, 'gnupg'), PASSWORD_STORE_DIR: join(root, 'store') };
  mkdirSync(env.GNUPGHOME, { recursive: true, mode: 0o700 });
  const full = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, ...env };
  const run = (file: string, args: string[], input?: Buffer) => execFileSync(file, args, { env: full, input, stdio: ['pipe', 'pipe', 'pipe'] });
  run('gpg', ['--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'secbuild-test <secbuild-test@example.invalid>', 'future-default', 'default', 'never']);
  const fpr = run('gpg', ['--list-secret-keys', '--with-colons']).toString().split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
  run('pass', ['init', fpr]);
  return {
    env,
    insert: (name, value) => void run('pass', ['insert', '-m', '-f', name], value),
    stop() {
      try {
        run('gpgconf', ['--kill', 'gpg-agent']);
      } catch {
        // no agent started
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
