/**
 * `cmd:COMMAND` — the standard output of a command, run without a shell.
 * Trailing newlines are removed, as shell command substitution does.
 * The command line is split into words on whitespace; quotes group: `'…'` is
 * literal, `"…"` takes `\"` and `\\` escapes, a backslash outside quotes
 * escapes the next character. For pipes or variables use a shell explicitly:
 * `cmd:sh -c '...'`.
 *
 *   secbuild --secret 'id=gh,from=cmd:gh auth token' -t app .
 *   secbuild --secret 'id=tok,from=cmd:sh -c "vault kv get -field=token secret/ci"' .
 *   secbuild --secret 'id=tok,from=cmd:sh -c "printf a,b"' .      # a comma inside "…" is fine
 *   secbuild --secret "id=tok,\"from=cmd:sh -c 'printf a,b'\"" .   # inside '…', quote the field
 *
 *   # secbuild.yml: no CSV here, the command is the string as written
 *   secrets:
 *     ecr: { from: "cmd:aws ecr get-login-password" }
 *     token: { from: 'cmd:op read "op://vault/my item/token"' }
 *
 * On the command line, `--secret` is first split as docker's CSV
 * (src/secrets/csv.ts). A double quote inside a field is kept for the command
 * (docker itself refuses one there), so `from=cmd:sh -c "printf x"` runs `sh`,
 * `-c`, `printf x`, as docker's own quoting `"from=cmd:sh -c ""printf x"""`
 * does. A single quote is ordinary to CSV, so a comma inside single quotes
 * needs the whole field quoted.
 *
 * A non-zero exit fails the secret and shows the command's stderr (last lines).
 * A command that is not found counts as a missing key (`MissingSecret`, as for an
 * absent file), so an optional secret is skipped when its tool is not installed.
 * The command gets secbuild's environment minus every variable a secret is read from;
 * it may prompt on a person's terminal (its stderr is shown there). In CI a terminal is
 * a log: its stderr is not shown (only, masked, in the error when it fails) and it runs
 * without a terminal (no stdin from it, no /dev/tty). SECBUILD_CMD_TIMEOUT (seconds, default 120) bounds it,
 * and its output is kept up to 500 KiB + 1 byte: past that it is killed and refused.
 */
import { capture, type CaptureResult } from '../src/run/exec.js';
import { MAX_SECRET_BYTES } from '../src/secrets/limits.js';
import { inCI } from '../src/util/ci.js';
import { MissingSecret, ProviderError, type SecretProvider } from './types.js';

export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new ProviderError(`unbalanced ${quote} quote in the command`);
  if (inWord) words.push(word);
  return words;
}

function stripTrailingNewlines(buf: Buffer): Buffer {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0x0a) end--;
  return buf.subarray(0, end);
}

function tail(text: string, lines = 5): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

let terminalTurn: Promise<unknown> = Promise.resolve();

/** Runs `run` after every earlier command that had the terminal has finished. */
function oneAtATheTerminal<T>(run: () => Promise<T>): Promise<T> {
  const turn = terminalTurn.then(run, run);
  terminalTurn = turn.catch(() => {});
  return turn;
}

export const cmdProvider = {
  scheme: 'cmd',
  usage: 'cmd:COMMAND           standard output of a command (no shell; trailing newlines removed)',
  check(key) {
    try {
      return splitCommand(key).length === 0 ? 'the command is empty' : undefined;
    } catch (err) {
      return (err as Error).message;
    }
  },
  describe: (key) => `cmd:${key}`,
  async resolve(key, ctx) {
    const [file, ...args] = splitCommand(key);
    const asked = Number(ctx.env.SECBUILD_CMD_TIMEOUT ?? 120);
    const timeoutSec = Number.isFinite(asked) && asked > 0 ? asked : 120;
    // In CI a terminal is a log: no prompt is shown on it, and the command gets no terminal (src/util/ci.ts).
    const ci = process.stdin.isTTY || process.stderr.isTTY ? await inCI() : false;
    const interactive = process.stdin.isTTY === true && !ci;
    // Commands that may prompt on the terminal take turns: two prompts at once would garble both.
    const result = await (interactive ? oneAtATheTerminal : (run: () => Promise<CaptureResult>) => run())(() => capture(file!, args, {
      env: ctx.childEnv,
      cwd: ctx.cwd,
      timeoutMs: timeoutSec * 1000,
      inheritStdin: interactive,
      // On a terminal a prompt written to stderr (a password manager asking) must be seen; it is still kept for errors.
      showStderr: interactive && process.stderr.isTTY === true,
      // One byte past BuildKit's limit: enough to know the value is too large.
      maxBytes: MAX_SECRET_BYTES + 1,
      noTerminal: ci,
    }));
    if (result.failedToStart === 'ENOENT') {
      throw new MissingSecret(`command "${file}" was not found; check that it is installed and on PATH`);
    }
    if (result.failedToStart) {
      throw new ProviderError(`command "${file}" could not be started (${result.failedToStart}); check that it is installed and on PATH`);
    }
    if (result.timedOut) throw new ProviderError(`command "${file}" did not finish within ${timeoutSec}s (SECBUILD_CMD_TIMEOUT)`);
    if (result.overflowed) {
      // The seam killed the command and cut both streams at maxBytes.
      if (result.stdout.length > MAX_SECRET_BYTES) throw new ProviderError(`command "${file}" printed more than 500 KiB; BuildKit accepts at most ${MAX_SECRET_BYTES} bytes (500 KiB) per secret`);
      throw new ProviderError(`command "${file}" wrote more than 500 KiB to its stderr and was stopped; run it by hand to see why`);
    }
    if (result.exitCode !== 0) {
      const how = result.signal ? `was ended by ${result.signal}` : `exited with code ${result.exitCode}`;
      const err = tail(result.stderr);
      // Its stdout goes along (never shown): a command that echoes its value to stderr gets it masked there.
      throw new ProviderError(`command "${file}" ${how}${err ? `; its stderr:\n${err}` : ''}`, { output: result.stdout });
    }
    return stripTrailingNewlines(result.stdout);
  },
} satisfies SecretProvider;
