/**
 * `pass:PATH[#FIELD]` — an entry of the standard Unix password store
 * (passwordstore.org), read with the `pass` CLI (`pass show PATH`).
 *
 * - `pass:PATH` is the entry's first line, without its newline (the password,
 *   by pass's convention; what `pass -c` copies).
 * - `pass:PATH#FIELD` is the value of the first later line `FIELD: value`
 *   (the name compared without regard to case, blanks after the colon and a
 *   trailing CR removed), as browserpass and passff read them.
 *
 *   printf '%s\n%s\n' "$TOKEN" 'user: ci' | pass insert -m app/npm
 *   secbuild --secret id=npm,from=pass:app/npm -t app .
 *   secbuild --secret id=user,from=pass:app/npm#user exec -- ./deploy.sh
 *
 *   # secbuild.yml
 *   secrets:
 *     npm:  { from: "pass:app/npm" }
 *     user: { from: "pass:app/npm#user" }
 *
 * The store is pass's own: PASSWORD_STORE_DIR (default ~/.password-store) and
 * GNUPGHOME (default ~/.gnupg), decrypted by gpg and its agent. `pass` gets
 * PATH, HOME, those two, the gpg-agent's variables (GPG_TTY, GPG_AGENT_INFO,
 * DISPLAY… for its pinentry) and pass's own PASSWORD_STORE_GPG_OPTS and
 * PASSWORD_STORE_SIGNING_KEY, and nothing else (./store-cli.ts). The entry
 * path is in its argv (a path, never a value); a path starting with `-` is
 * refused. No entry and no such field are `MissingSecret` (an optional secret
 * is skipped); pass not installed or gpg failing to decrypt are errors.
 * Errors name the store and the entry, never what pass printed. gpg runs
 * without LANG, so its messages are the C locale's (read, never shown). A `#`
 * in an entry's own name cannot be written (the last `#` starts the field).
 */
import { anySet, MissingSecret, ProviderError, type ResolveContext, type SecretProvider } from './types.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cliVersion, runStoreCli, storeEnv } from './store-cli.js';

export const PASS_VARS = [
  'HOME', 'PASSWORD_STORE_DIR', 'GNUPGHOME', 'PASSWORD_STORE_GPG_OPTS', 'PASSWORD_STORE_SIGNING_KEY',
  'GPG_TTY', 'GPG_AGENT_INFO', 'PINENTRY_USER_DATA', 'XDG_RUNTIME_DIR', 'DISPLAY', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'TERM',
];

export interface PassKey {
  path: string;
  field: string | undefined;
}

export function parsePassKey(key: string): PassKey {
  const hash = key.lastIndexOf('#');
  return hash < 0 ? { path: key, field: undefined } : { path: key.slice(0, hash), field: key.slice(hash + 1) };
}

/** The store as messages name it: PASSWORD_STORE_DIR, or pass's default. */
function storeName(ctx: ResolveContext): string {
  return ctx.childEnv.PASSWORD_STORE_DIR ? `password store ${ctx.childEnv.PASSWORD_STORE_DIR}` : 'password store ~/.password-store';
}

/** The first line, or the value of the first `field: value` line after it; undefined when the field is absent. */
export function selectPassValue(entry: Buffer, field: string | undefined): Buffer | undefined {
  const nl = entry.indexOf(0x0a);
  if (field === undefined) return nl < 0 ? entry : entry.subarray(0, nl);
  if (nl < 0) return undefined;
  const want = field.toLowerCase();
  let start = nl + 1;
  while (start < entry.length) {
    const end = entry.indexOf(0x0a, start) < 0 ? entry.length : entry.indexOf(0x0a, start);
    const line = entry.subarray(start, end);
    const colon = line.indexOf(0x3a);
    if (colon > 0 && line.subarray(0, colon).toString('utf8').trim().toLowerCase() === want) {
      let from = colon + 1;
      while (from < line.length && (line[from] === 0x20 || line[from] === 0x09)) from++;
      let to = line.length;
      if (to > from && line[to - 1] === 0x0d) to--;
      return line.subarray(from, to);
    }
    start = end + 1;
  }
  return undefined;
}

/** What went wrong, in secbuild's words, from pass's and gpg's stderr (never quoted: it may hold anything). */
function passFailure(ref: string, store: string, path: string, stderr: string, exitCode: number | undefined): Error {
  if (/is not in the password store/.test(stderr)) {
    return new MissingSecret(`${ref}: no entry "${path}" in the ${store}; add it with: pass insert ${path}`);
  }
  if (/No secret key|decryption failed|Bad passphrase|No pinentry|Inappropriate ioctl|Operation cancelled|public key decryption/i.test(stderr)) {
    return new ProviderError(`${ref}: gpg could not decrypt the entry in the ${store}; check that GNUPGHOME holds the secret key it is encrypted for and that gpg-agent can unlock it (try: pass show ${path})`);
  }
  if (/password store is empty|Try "pass init"/.test(stderr)) {
    return new ProviderError(`${ref}: the ${store} is not initialised; set PASSWORD_STORE_DIR to your store, or create one with: pass init GPG-ID`);
  }
  return new ProviderError(`${ref}: pass exited with code ${exitCode ?? 'unknown'} reading the ${store}; run: pass show ${path} to see why`);
}

export const passProvider = {
  scheme: 'pass',
  usage: 'pass:PATH[#FIELD]     a password-store entry: its first line, or its FIELD: line',
  check(key) {
    const { path, field } = parsePassKey(key);
    if (path === '') return 'the entry path is empty';
    if (path.startsWith('-')) return 'the entry path starts with "-"';
    if (/[\0\n\r]/.test(key)) return 'the entry path holds a control character';
    if (field !== undefined && field.trim() === '') return 'the field name after "#" is empty';
    return undefined;
  },
  describe: (key) => `pass:${key}`,
  // Used: a pass: reference in the specs, a PASSWORD_STORE_* variable set, or a ~/.password-store.
  async readiness(ctx) {
    const dir = ctx.childEnv.PASSWORD_STORE_DIR || (ctx.childEnv.HOME ? join(ctx.childEnv.HOME, '.password-store') : undefined);
    const used = ctx.refs.length > 0 || anySet(ctx.childEnv, /^PASSWORD_STORE_/) || (dir !== undefined && existsSync(dir));
    const version = await cliVersion('pass', ['version'], storeEnv(ctx, PASS_VARS));
    if (!version) return { store: 'pass', ok: false, used, text: used ? 'the pass command is not installed; pass: references will fail until it is (apt-get install pass, brew install pass)' : 'pass: references need the pass command: apt-get install pass, brew install pass' };
    if (!dir || !existsSync(join(dir, '.gpg-id'))) {
      const text = used ? `${version} found, but no store at ${dir ?? '~/.password-store'} (no .gpg-id); set PASSWORD_STORE_DIR, or create one with: pass init GPG-ID` : `${version} found; pass: references need a store: pass init GPG-ID, or PASSWORD_STORE_DIR`;
      return { store: 'pass', ok: false, used, text };
    }
    return { store: 'pass', ok: true, used, text: `${version}, store ${dir} (entries are read with gpg when a build needs them)` };
  },
  async resolve(key, ctx) {
    const { path, field } = parsePassKey(key);
    const ref = `pass:${key}`;
    const store = storeName(ctx);
    const call = { ref, tool: 'pass', install: 'install it (apt-get install pass, brew install pass)', env: storeEnv(ctx, PASS_VARS) };
    const r = await runStoreCli(call, ['show', path], ctx);
    if (r.exitCode !== 0) throw passFailure(ref, store, path, r.stderr, r.exitCode);
    const value = selectPassValue(r.stdout, field);
    if (value === undefined) {
      throw new MissingSecret(`${ref}: the entry "${path}" in the ${store} has no "${field}:" line; add one after the first line with: pass edit ${path}`);
    }
    const out = Buffer.from(value);
    r.stdout.fill(0); // the entry's other lines (other fields) stay nowhere in memory
    return out;
  },
} satisfies SecretProvider;
