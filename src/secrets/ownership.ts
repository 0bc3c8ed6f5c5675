/**
 * The owner and mode a secret's file gets where a container reads it
 * (`compose up`'s long syntax, `secbuild run --secret …,uid=,gid=,mode=`),
 * parsed one way for both. Pure.
 */
import { UsageError } from '../util/errors.js';

/** The owner and mode one secret's file gets. */
export interface Ownership {
  uid: number;
  gid: number;
  mode: number;
}

/** `0400` */
export const octal = (mode: number) => `0${mode.toString(8)}`;

/**
 * A `mode:` as Compose reads it: YAML 1.2 reads `0400` as the number 400,
 * compose-go (go-yaml) as octal 0400; a number written with octal digits
 * only is taken as the octal it was written as.
 */
export function modeOf(v: unknown, at: string): number {
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  const digits = /^0?o?([0-7]{1,4})$/i.exec(text);
  const n = digits ? parseInt(digits[1]!, 8) : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 0o7777)) throw new UsageError(`${at}: expected a file mode such as 0400 or 0440.`);
  return n;
}

export function idOf(v: unknown, at: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${at}: expected a numeric id such as "1000".`);
  return n;
}

/**
 * `{ owner }` for `--secret`'s `uid=`, `gid=`, `mode=`, `{}` without them: for `secbuild run`, where a container's user reads
 * the file. Refused elsewhere rather than ignored: a build's or compose
 * service's reader gets its owner and mode from the mount, and a field that
 * silently did nothing would leave a build step or service unable to read
 * its secret, or readable more widely than the user believes.
 */
export function ownerFields(map: ReadonlyMap<string, string>, flag: string, id: string, allowed: boolean): { owner?: Partial<Ownership> } {
  const given = (['uid', 'gid', 'mode'] as const).filter((k) => map.has(k));
  if (given.length === 0) return {};
  if (!allowed) {
    throw new UsageError(
      `${flag}: uid=, gid= and mode= are for secbuild run (the container's user reads the file); in a build set them on the mount (RUN --mount=type=secret,id=${id},uid=1000,mode=0400), ` +
        `for compose up in the service's long syntax (secrets: [{ source: ${id}, uid: "1000", mode: 0400 }]).`,
    );
  }
  const o: Partial<Ownership> = {};
  for (const k of given) o[k] = k === 'mode' ? modeOf(map.get(k), `${flag} mode=`) : idOf(map.get(k), `${flag} ${k}=`);
  return { owner: o };
}
