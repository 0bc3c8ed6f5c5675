/**
 * A resolved secret: an id, a printable source, and the bytes. The only object
 * in the program that holds a value. It refuses to be printed: `String()`,
 * `JSON.stringify` and `util.inspect` show the id, source and length only.
 * The bytes live in a private field behind a getter, so spreading the object,
 * `Object.assign`, `Object.entries` or a test runner's diff never copy them.
 */
import { showTyped, type Shown } from '../util/shown.js';

export class Secret {
  readonly #value: Buffer;
  /** Where it came from, e.g. `env:NPM_TOKEN` or `netrc: github.com`: typed text, so shown through showTyped (src/util/shown.ts). */
  readonly source: Shown;

  constructor(
    readonly id: string,
    source: string,
    value: Buffer,
  ) {
    this.source = showTyped(source);
    this.#value = value;
  }

  get value(): Buffer {
    return this.#value;
  }

  get bytes(): number {
    return this.#value.length;
  }

  toString(): string {
    return `[secret ${this.id}]`;
  }

  toJSON(): { id: string; source: string; bytes: number } {
    return { id: this.id, source: this.source, bytes: this.bytes };
  }

  // util.inspect.custom, without loading node:util on the build path.
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret(${this.id}, ${this.source}, ${this.bytes} bytes)`;
  }
}
