/**
 * The one option loop under every hand-written argv parser (build, compose,
 * verify, check, exec): a table of option specs in, callbacks out. It is the
 * only place that knows `--` (and a first positional that ends the options),
 * `--name=value`, `-xVALUE`, `-x=VALUE`, "needs a value", "given twice" and
 * "takes no value". Words it does not know go to a
 * callback untouched, so `secbuild build` can pass docker's flags on verbatim
 * and in order. Pure: no I/O, throws UsageError.
 *
 * Example:
 *   const table = [{ name: '--tag', short: '-t', value: 'NAME', repeatable: true, key: 'tag' }] as const;
 *   parseOptions(['-tapp', '--no-cache', '.'], {
 *     command: 'secbuild build', options: table,
 *     option: (hit) => tags.push(hit.value!),       // hit.words: ['-tapp']
 *     unknown: (word) => passOn.push(word),          // '--no-cache'
 *     positional: (word) => contexts.push(word),     // '.'
 *   });
 */
import { UsageError } from '../util/errors.js';

export interface OptionSpec<K extends string = string> {
  /** Long name with its dashes: `--secret`. */
  name: string;
  /** One-letter alias with its dash: `-f`. */
  short?: string;
  /** Name of the value, shown in help (`SPEC`); absent for a switch. */
  value?: string;
  /** The option may be given more than once. Otherwise a second one is a usage error; switches may always repeat. */
  repeatable?: boolean;
  /** What the option fills in the parser's result. */
  key: K;
}

export interface OptionHit<S extends OptionSpec = OptionSpec> {
  spec: S;
  /** The flag as written, without its value: `-t` or `--tag`. */
  flag: string;
  /** The value; undefined for a switch. */
  value: string | undefined;
  /** The argv words the option took, verbatim: `['-t', 'app']`, `['-tapp']`, `['--tag=app']`. */
  words: string[];
}

export interface OptionLoop<S extends OptionSpec> {
  /** The command named in "see … --help": `secbuild build`. */
  command: string;
  /** The options known here; a function when they change along the line (compose: before and after `build`). */
  options: readonly S[] | (() => readonly S[]);
  /** A known option with its value. */
  option(hit: OptionHit<S>): void;
  /**
   * A word that looks like an option but is not in the table. `name` is the
   * flag part (`--x` of `--x=v`, `-x` of `-xv`), `inline` what follows it.
   * The word is not consumed beyond itself.
   */
  unknown(word: string, name: string, inline: string | undefined): void;
  /** A word that is not an option (`-` included). */
  positional(word: string): void;
  /** The words after `--`; by default each goes to `positional`. */
  rest?(words: string[]): void;
  /**
   * The first word that is not an option ends the options as `--` does: it
   * and every word after it go to `rest` (`secbuild exec … COMMAND ARGS…`,
   * whose ARGS are the command's own flags).
   */
  restFromPositional?: boolean;
}

export const needsValue = (flag: string, command: string) => new UsageError(`${flag} needs a value; see ${command} --help.`);
export const givenTwice = (flag: string) => new UsageError(`${flag} is given twice; give it once.`);
export const takesNoValue = (flag: string) => new UsageError(`${flag} takes no value.`);

/** Walks argv once, left to right, and reports every word to `loop`. */
export function parseOptions<S extends OptionSpec>(argv: readonly string[], loop: OptionLoop<S>): void {
  const seen = new Set<S>();
  const table = typeof loop.options === 'function' ? loop.options : () => loop.options as readonly S[];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word === '--') {
      const rest = argv.slice(i + 1);
      if (loop.rest) loop.rest(rest);
      else rest.forEach((w) => loop.positional(w));
      return;
    }
    if (!word.startsWith('-') || word === '-') {
      if (loop.restFromPositional && loop.rest) return loop.rest(argv.slice(i));
      loop.positional(word);
      continue;
    }
    const long = word.startsWith('--');
    const eq = word.indexOf('=');
    const name = long ? (eq < 0 ? word : word.slice(0, eq)) : word.slice(0, 2);
    // `-x=v` and `-xv` both attach v to -x.
    const inline = long ? (eq < 0 ? undefined : word.slice(eq + 1)) : word.length > 2 ? word.slice(word[2] === '=' ? 3 : 2) : undefined;
    const spec = table().find((s) => (long ? s.name === name : s.short === name));
    if (!spec) {
      loop.unknown(word, name, inline);
      continue;
    }
    if (!spec.value) {
      // `-qx` may be bundled short switches: not this one's business.
      if (!long && inline !== undefined && word[2] !== '=') loop.unknown(word, name, inline);
      else if (inline !== undefined) throw takesNoValue(name);
      else loop.option({ spec, flag: name, value: undefined, words: [word] });
      continue;
    }
    if (!spec.repeatable && seen.has(spec)) throw givenTwice(name);
    seen.add(spec);
    if (inline !== undefined) {
      loop.option({ spec, flag: name, value: inline, words: [word] });
      continue;
    }
    if (i + 1 >= argv.length) throw needsValue(name, loop.command);
    const value = argv[++i]!;
    loop.option({ spec, flag: name, value, words: [word, value] });
  }
}
