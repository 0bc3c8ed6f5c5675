/**
 * A stream that rewrites docker's output line by line (the derived
 * Dockerfile's line references made the user's: src/dockerfile/derive.ts).
 * A line the rewrite drops (null) is not written. A partial last line is
 * passed on when the stream ends.
 */
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';

export type LineRewrite = (line: string) => string | null;

export class LineRewriteStream extends Transform {
  private rest = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly rewrite: LineRewrite) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const text = this.rest + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.rest = lines.pop()!;
    const out = lines.map((l) => this.rewrite(l)).filter((l): l is string => l !== null);
    if (out.length > 0) this.push(`${out.join('\n')}\n`);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.rest += this.decoder.end();
    if (this.rest) {
      const last = this.rewrite(this.rest);
      if (last !== null) this.push(last);
    }
    done();
  }
}
