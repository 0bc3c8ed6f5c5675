/**
 * Rewrites docker's output line by line (the derived Dockerfile's line
 * references made the user's: src/dockerfile/derive.ts). A line the rewrite
 * drops (null) is not written. A partial last line is passed on at the end.
 * Called by src/pipeline/masked-run.ts on each chunk, after the redactor.
 */
import { StringDecoder } from 'node:string_decoder';

export type LineRewrite = (line: string) => string | null;

export class LineRewriter {
  private rest = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly rewrite: LineRewrite) {}

  /** The whole lines `chunk` completes, rewritten, or undefined when none. */
  write(chunk: Buffer): string | undefined {
    const text = this.rest + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.rest = lines.pop()!;
    const out = lines.map((l) => this.rewrite(l)).filter((l): l is string => l !== null);
    return out.length > 0 ? `${out.join('\n')}\n` : undefined;
  }

  /** The partial last line, rewritten, or undefined. */
  end(): string | undefined {
    this.rest += this.decoder.end();
    const last = this.rest ? this.rewrite(this.rest) : null;
    return last ?? undefined;
  }
}
