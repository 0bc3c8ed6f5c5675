/**
 * `file:PATH` — the bytes of a file. `~` is expanded; a relative path is
 * relative to the working directory (for secbuild.yml: to the config file's directory).
 *
 *   secbuild --secret id=gh,from=file:~/.config/gh/token -t app .
 *
 *   # secbuild.yml
 *   secrets:
 *     gh: { from: "file:~/.config/gh/token" }
 *
 * Files larger than BuildKit's limit are refused before they are read; a pipe,
 * FIFO or device (`<(op read …)`, /dev/zero) is read up to the limit plus one
 * byte and refused past it (src/secrets/limits.ts `readAtMost`), without
 * blocking secbuild while it waits for the writer.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { MAX_SECRET_BYTES, readAtMost } from '../src/secrets/limits.js';
import { MissingSecret, ProviderError, type SecretProvider, type ResolveContext } from './types.js';

export function expandPath(p: string, ctx: Pick<ResolveContext, 'cwd' | 'env'>): string {
  if (p === '~') return ctx.env.HOME ?? homedir();
  if (p.startsWith('~/')) return join(ctx.env.HOME ?? homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolvePath(ctx.cwd, p);
}

export const fileProvider = {
  scheme: 'file',
  usage: 'file:PATH             a file (~ expanded, relative to the working directory)',
  check: (key) => (key === '' ? 'the file path is empty' : undefined),
  describe: (key) => `file:${key}`,
  async resolve(key, ctx) {
    const path = expandPath(key, ctx);
    let read;
    try {
      read = await readAtMost(path, MAX_SECRET_BYTES);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new MissingSecret(`file ${path} does not exist`);
      if (code === 'EACCES') throw new ProviderError(`file ${path} is not readable by this user`);
      if (code === 'EISDIR') throw new ProviderError(`${path} is a directory, not a file`);
      throw new ProviderError(`cannot read ${path} (${code ?? 'error'})`);
    }
    if (read.over) {
      const what = read.size === undefined ? 'holds more than 500 KiB' : `is ${read.size} bytes`;
      throw new ProviderError(`file ${path} ${what}; BuildKit accepts at most ${MAX_SECRET_BYTES} bytes (500 KiB) per secret`);
    }
    return read.bytes;
  },
} satisfies SecretProvider;
