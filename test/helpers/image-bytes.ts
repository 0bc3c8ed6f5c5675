/**
 * Byte searches over what docker shows of an image, for the e2e tier's
 * "no credential byte anywhere" checks: `docker save` streamed (an image with
 * a Debian base is ~600 MB, never held whole) and `docker history`.
 */
import { spawn } from 'node:child_process';

/** Which of `needles` occur in the stdout of `cmd args` (streamed, with an overlap so a match across chunks is found). */
export function streamHolds(cmd: string, args: string[], needles: readonly Buffer[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; found: Buffer[]; bytes: number }> {
  return new Promise((resolve, reject) => {
    const keep = Math.max(0, ...needles.map((n) => n.length)) - 1;
    const found = new Set<Buffer>();
    let tail = Buffer.alloc(0);
    let bytes = 0;
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      const window = Buffer.concat([tail, chunk]);
      for (const n of needles) if (!found.has(n) && window.includes(n)) found.add(n);
      tail = keep > 0 ? Buffer.from(window.subarray(Math.max(0, window.length - keep))) : Buffer.alloc(0);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, found: [...found], bytes }));
  });
}
