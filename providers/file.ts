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
 * Files larger than BuildKit's limit are refused before they are read.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { MAX_SECRET_BYTES } from '../src/secrets/limits.js';
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
    // Asynchronous on purpose: a FIFO such as `<(op read …)` (/dev/fd/63) may wait
    // for its writer, and signal handlers must keep running meanwhile.
    const { open } = await import('node:fs/promises');
    let handle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new MissingSecret(`file ${path} does not exist`);
      if (code === 'EACCES') throw new ProviderError(`file ${path} is not readable by this user`);
      if (code === 'EISDIR') throw new ProviderError(`${path} is a directory, not a file`);
      throw new ProviderError(`cannot open ${path} (${code ?? 'error'})`);
    }
    const tooBig = (size?: number) =>
      new ProviderError(`file ${path} ${size === undefined ? 'holds more than the limit' : `is ${size} bytes`}; BuildKit accepts at most ${MAX_SECRET_BYTES} bytes (500 KiB) per secret`);
    try {
      const st = await handle.stat();
      if (st.isDirectory()) throw new ProviderError(`${path} is a directory, not a file`);
      if (st.isFile() && st.size > MAX_SECRET_BYTES) throw tooBig(st.size);
      // Read at most one byte past the limit, so a pipe cannot make secbuild buffer without bound.
      const chunks: Buffer[] = [];
      let total = 0;
      for (;;) {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await handle.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        chunks.push(buf.subarray(0, bytesRead));
        total += bytesRead;
        if (total > MAX_SECRET_BYTES) throw tooBig();
      }
      return Buffer.concat(chunks, total);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new ProviderError(`${path} is a directory, not a file`);
      throw err;
    } finally {
      await handle.close();
    }
  },
} satisfies SecretProvider;
