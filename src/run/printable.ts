/**
 * A command line as secbuild prints it: in the report (`dockerArgv`, `runs`),
 * SECBUILD_DEBUG's `exec:` lines and anywhere else argv is shown. The one
 * thing argv holds that is not shown is a cache policy's keyed MAC (the
 * `--build-arg SECBUILD_CACHE_ID…=HEX` words of src/pipeline/cache-args.ts):
 * it is replaced by `<cache input>`. A `scope:NAME` input and --dry-run's
 * `<HMAC-SHA-256 of …>` placeholder are shown as they are.
 *
 * `PrintableArgv` can only be made here, so a printed field typed with it
 * cannot be filled from the argv that runs.
 */

/** The build-arg name's prefix (cacheArgName in src/secrets/cache-policy.ts): defined here, below secrets, so argv can be made printable at the exec seam. */
export const CACHE_ARG_PREFIX = 'SECBUILD_CACHE_ID';

declare const printable: unique symbol;
export type PrintableArgv = readonly string[] & { readonly [printable]: true };

const CACHE_WORD = new RegExp(`^((?:--build-arg=)?${CACHE_ARG_PREFIX}[A-Za-z0-9_]*=)(.*)$`, 's');

export function printableArgv(argv: readonly string[]): PrintableArgv {
  return argv.map((word) => {
    const m = CACHE_WORD.exec(word);
    if (!m || m[2]!.startsWith('scope:') || /^<.*>$/s.test(m[2]!)) return word;
    return `${m[1]}<cache input>`;
  }) as unknown as PrintableArgv;
}
