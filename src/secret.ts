/**
 * A resolved secret: an id, a printable source, and the bytes. The only object
 * in the program that holds a value. It refuses to be printed: `String()`,
 * `JSON.stringify` and `util.inspect` show the id, source and length only.
 */
import { inspect } from 'node:util';

export class Secret {
  constructor(
    readonly id: string,
    /** Where it came from, e.g. `env:NPM_TOKEN` or `netrc (2 entries)`. */
    readonly source: string,
    readonly value: Buffer,
  ) {}

  get bytes(): number {
    return this.value.length;
  }

  toString(): string {
    return `[secret ${this.id}]`;
  }

  toJSON(): { id: string; source: string; bytes: number } {
    return { id: this.id, source: this.source, bytes: this.bytes };
  }

  [inspect.custom](): string {
    return `Secret(${this.id}, ${this.source}, ${this.bytes} bytes)`;
  }
}
