/**
 * A RECORDING STAND-IN for the 1Password CLI (1Password cannot run here): an
 * executable `op` written into a temp directory. It implements only what
 * `op:` uses, as op documents it, and records each call's argv and
 * environment (one `ENV NAME` line per variable, then `ARGV …`):
 *
 * - `op --version` → `2.30.0`;
 * - `op read [-n|--no-newline] op://VAULT/ITEM[/SECTION]/FIELD` → the value
 *   from its table (`STORE/VAULT/ITEM[/SECTION]/FIELD`, one file per field),
 *   with a newline unless -n;
 * - an absent vault, item or field → exit 1, `[ERROR] … could not find item …`;
 * - no OP_SERVICE_ACCOUNT_TOKEN → exit 1, `[ERROR] … You are not currently signed in`;
 * - a reference with fewer than 3 or more than 4 parts → exit 1, `invalid secret reference`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const SCRIPT = (store: string, log: string) => `#!/bin/sh
{ env -0 | tr '\\n' ' ' | tr '\\0' '\\n' | sed 's/=.*//; s/^/ENV /'; printf 'ARGV %s\\n' "$*"; } >> '${log}'
[ "$1" = --version ] && { echo 2.30.0; exit 0; }
[ "$1" = read ] || { echo "[ERROR] unknown command \\"$1\\" for \\"op\\"" >&2; exit 1; }
shift; nl='\\n'
case $1 in -n|--no-newline) nl=''; shift ;; esac
ref=$1; path=\${ref#op://}
[ "$ref" = "$path" ] && { echo "[ERROR] 2026/01/01 00:00:00 invalid secret reference '$ref': missing 'op://' prefix" >&2; exit 1; }
n=$(printf '%s' "$path" | awk -F/ '{print NF}')
[ "$n" -lt 3 ] || [ "$n" -gt 4 ] && { echo "[ERROR] 2026/01/01 00:00:00 invalid secret reference '$ref': too many '/': secret references should match op://<vault>/<item>[/<section>]/<field>" >&2; exit 1; }
[ -n "$OP_SERVICE_ACCOUNT_TOKEN" ] || { echo '[ERROR] 2026/01/01 00:00:00 You are not currently signed in. Please run \`op signin --help\` for instructions' >&2; exit 1; }
[ -f '${store}'/"$path" ] || { echo "[ERROR] 2026/01/01 00:00:00 could not read secret '$ref': could not find item $(echo "$path" | cut -d/ -f2) in vault $(echo "$path" | cut -d/ -f1)" >&2; exit 1; }
cat '${store}'/"$path"; printf "$nl"
`;

export interface OpStandin {
  /** The directory holding `op`: put it first on PATH. */
  readonly bin: string;
  /** Stores a field's value under `VAULT/ITEM[/SECTION]/FIELD`. */
  set(path: string, value: Buffer | string): void;
  /** Every call so far: its argv (joined by spaces) and its environment's variable names. */
  calls(): { argv: string; env: string[] }[];
}

export function makeOpStandin(dir: string): OpStandin {
  const bin = join(dir, 'bin');
  const store = join(dir, 'store');
  const log = join(dir, 'calls.log');
  mkdirSync(bin, { recursive: true });
  mkdirSync(store, { recursive: true });
  writeFileSync(log, '');
  writeFileSync(join(bin, 'op'), SCRIPT(store, log), { mode: 0o755 });
  return {
    bin,
    set(path, value) {
      mkdirSync(dirname(join(store, path)), { recursive: true });
      writeFileSync(join(store, path), value);
    },
    calls() {
      const out: { argv: string; env: string[] }[] = [];
      let env: string[] = [];
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (line.startsWith('ENV ')) env.push(line.slice(4));
        else if (line.startsWith('ARGV ')) (out.push({ argv: line.slice(5), env }), (env = []));
      }
      return out;
    },
  };
}
