/**
 * Where a build's result goes, read from docker's own flags, so that --verify
 * searches what was produced rather than assuming an image in the local store.
 * Pure: argv and what is known of the builder in, a list of results out.
 *
 * The flags follow buildx (util/buildflags/export.go ParseExports, and
 * commands/build.go: `--load` is `--output type=docker`, `--push` is
 * `--output type=image,push=true`; `-o DIR` is `type=local,dest=DIR` and
 * `-o -` a tar on stdout). docker 20.10's classic front end reads `-o` the
 * same way (local and tar only).
 *
 * Example: `-o type=oci,dest=img.tar` → `[{ kind: 'archive', format: 'oci', path: '<cwd>/img.tar' }]`;
 * `--push` → `[{ kind: 'none', why: '--push sends the image to its registry …' }]`.
 */
import { resolve } from 'node:path';
import { splitCsv } from '../../secrets/csv.js';

/** One result of a build, as --verify can (or cannot) search it. */
export type Produced =
  /** An image in the image store of the daemon the client addresses, found by the id docker writes to --iidfile. */
  | { kind: 'image' }
  /** An image archive: `docker save` layout (type=docker) or an OCI layout tar (type=oci). */
  | { kind: 'archive'; format: 'oci' | 'docker'; path: string; flag: string }
  /** A filesystem written by the build: a directory (type=local, type=oci,tar=false) or a tar of it (type=tar). */
  | { kind: 'files'; format: 'dir' | 'tar'; path: string; flag: string }
  /** A result --verify cannot search, and why, in one clause. */
  | { kind: 'none'; why: string };

/** What is known of the builder: buildx's driver, when `docker build` is buildx (./builder.ts). */
export interface BuilderFacts {
  /** `docker`: results land in the daemon's image store. Another driver (docker-container, remote, kubernetes) keeps them in its own cache. */
  driver?: string;
  name?: string;
}

interface Output {
  flag: string;
  type: string;
  attrs: Map<string, string>;
}

/** The key=value fields of an --output value, read as buildx reads them (src/secrets/csv.ts); a malformed one gives none. */
function fields(value: string): Map<string, string> {
  let split: string[];
  try {
    split = splitCsv(value);
  } catch {
    return new Map();
  }
  return new Map(split.map((f) => {
    const eq = f.indexOf('=');
    return [(eq < 0 ? f : f.slice(0, eq)).trim().toLowerCase(), eq < 0 ? '' : f.slice(eq + 1)] as const;
  }));
}

const isFalse = (v: string | undefined) => v !== undefined && /^(false|0)$/i.test(v);

/** docker's --output / -o, --load and --push, in order. */
export function parseOutputs(dockerArgs: readonly string[]): Output[] {
  const out: Output[] = [];
  for (let i = 0; i < dockerArgs.length; i++) {
    const a = dockerArgs[i]!;
    let value: string | undefined;
    if (a === '-o' || a === '--output') value = dockerArgs[++i];
    else if (a.startsWith('--output=')) value = a.slice('--output='.length);
    else if (a.startsWith('-o') && a.length > 2) value = a.slice(a[2] === '=' ? 3 : 2);
    else if (a === '--load' || a === '--load=true') out.push({ flag: '--load', type: 'docker', attrs: new Map() });
    else if (a === '--push' || a === '--push=true') out.push({ flag: '--push', type: 'image', attrs: new Map([['push', 'true']]) });
    if (value === undefined) continue;
    const flag = `--output ${value}`;
    if (!value.includes('=')) {
      out.push(value === '-' ? { flag, type: 'tar', attrs: new Map([['dest', '-']]) } : { flag, type: 'local', attrs: new Map([['dest', value]]) });
      continue;
    }
    const attrs = fields(value);
    out.push({ flag, type: (attrs.get('type') ?? '').toLowerCase(), attrs });
  }
  return out;
}

/**
 * What --verify can search for each result of the build. `builder` is
 * undefined for a CLI whose `docker build` is not buildx (its results go to
 * the daemon it addresses). Relative destinations resolve against `cwd`.
 */
export function producedBy(dockerArgs: readonly string[], builder: BuilderFacts | undefined, cwd: string): Produced[] {
  const store = builder === undefined || builder.driver === 'docker';
  const where = builder?.name ? `builder "${builder.name}" (driver ${builder.driver})` : `the builder (driver ${builder?.driver})`;
  const kept = `${where} keeps the result in its own cache, not in an image store secbuild can read`;
  const outputs = parseOutputs(dockerArgs);
  if (outputs.length === 0) return [store ? { kind: 'image' } : { kind: 'none', why: `${kept}; add --load, or -o type=oci,dest=FILE to verify the archive` }];
  return outputs.map((o): Produced => {
    const dest = o.attrs.get('dest');
    const toStdout = dest === '-' || (dest === undefined && (o.type === 'oci' || o.type === 'tar'));
    if (toStdout) return { kind: 'none', why: `${o.flag} writes the result to stdout, which secbuild passes on untouched; write it to a file (dest=FILE) to verify it` };
    const path = dest === undefined ? '' : resolve(cwd, dest);
    switch (o.type) {
      case 'image':
      case 'registry':
        if (o.type === 'registry' || (o.attrs.has('push') && !isFalse(o.attrs.get('push')))) {
          return { kind: 'none', why: `${o.flag} sends the image to its registry before --verify could search it; build with --load (or -o type=oci,dest=FILE) and --verify, then push` };
        }
        return store ? { kind: 'image' } : { kind: 'none', why: `${kept}; add --load, or -o type=oci,dest=FILE to verify the archive` };
      case 'docker':
        // Without dest buildx loads the image into the docker the client addresses, whatever the driver.
        return dest === undefined ? { kind: 'image' } : { kind: 'archive', format: 'docker', path, flag: o.flag };
      case 'oci':
        return isFalse(o.attrs.get('tar')) ? { kind: 'files', format: 'dir', path, flag: o.flag } : { kind: 'archive', format: 'oci', path, flag: o.flag };
      case 'local':
        return dest === undefined ? { kind: 'none', why: `${o.flag} has no dest=DIR` } : { kind: 'files', format: 'dir', path, flag: o.flag };
      case 'tar':
        return { kind: 'files', format: 'tar', path, flag: o.flag };
      case 'cacheonly':
        return { kind: 'none', why: `${o.flag} keeps only the build cache: there is no image to search` };
      default:
        return { kind: 'none', why: `${o.flag}: secbuild does not know where output type "${o.type || '(none)'}" puts the result` };
    }
  });
}
