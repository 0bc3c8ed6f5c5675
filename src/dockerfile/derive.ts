/**
 * The derived Dockerfile a cache policy needs (src/secrets/cache-policy.ts):
 * the user's text with `ARG SECBUILD_CACHE_ID<id>` inserted before each RUN
 * that mounts a secret whose policy is not stable. The user's file is never
 * written; this text goes to a file of the run directory handed to docker
 * with `-f`. Pure: text and the model's mounts in, text and a line map out.
 *
 * Why an ARG: moby/buildkit frontend/dockerfile/dockerfile2llb/convert.go
 * (`dispatchRun`) puts every build-arg declared in the stage so far into the
 * RUN's environment, which is part of the ExecOp and so of its cache key. An
 * ARG declared just before the RUN changes the key of that RUN (and, through
 * BuildKit's chaining, of what follows it) and of nothing before it or in
 * another stage. ARG is not a build step, so docker's `[n/m]` numbering is
 * unchanged.
 *
 * Inserted lines move the lines below them; `lineMap` maps a line of the
 * derived file back to the user's (an inserted ARG maps to its RUN), and
 * `mapDockerLine` rewrites docker's messages that name a line.
 */

export interface DerivedDockerfile {
  text: string;
  /** lineMap[g - 1] = the user's line for line g of the derived text. */
  lineMap: number[];
  /** The derived lines secbuild added (1-based). */
  added: ReadonlySet<number>;
}

/** What the derivation needs of a secret mount: its id and the first line of its RUN. */
export interface MountAt {
  id: string;
  run?: number;
}

/**
 * `args(id)` names the build-arg for a mounted secret id, or undefined when
 * its policy is stable. Returns undefined when no RUN needs an ARG.
 */
export function deriveDockerfile(text: string, mounts: readonly MountAt[], args: (id: string) => string | undefined): DerivedDockerfile | undefined {
  const before = new Map<number, string[]>();
  for (const m of mounts) {
    const name = args(m.id);
    if (name === undefined || m.run === undefined) continue;
    const list = before.get(m.run) ?? [];
    if (!list.includes(name)) list.push(name);
    before.set(m.run, list);
  }
  if (before.size === 0) return undefined;
  // Split keeping each line's own ending, so CRLF files and heredoc bodies are untouched.
  const parts = text.split(/(\r\n|\r|\n)/);
  const out: string[] = [];
  const lineMap: number[] = [];
  const added = new Set<number>();
  for (let i = 0, line = 1; i < parts.length; i += 2, line++) {
    for (const name of before.get(line) ?? []) {
      out.push(`ARG ${name}\n`);
      lineMap.push(line);
      added.add(lineMap.length);
    }
    out.push(parts[i]! + (parts[i + 1] ?? ''));
    lineMap.push(line);
  }
  return { text: out.join(''), lineMap, added };
}

/** The user's line for derived line `n` (a line past the end stays as it is). */
function userLine(map: DerivedDockerfile, n: number): number {
  return map.lineMap[n - 1] ?? n;
}

/**
 * One line of docker's output with the derived file's line references made
 * the user's: `dockerfile parse error line N` (BuildKit 0.8, docker 20.10),
 * `<name>:N` (later BuildKit prints the file's base name), and the numbered
 * source excerpt later BuildKit prints between dashed rules (an added ARG's
 * row is dropped: `null`). A RUN's own output (`#5 0.312 …`) is left alone.
 */
export function mapDockerLine(line: string, map: DerivedDockerfile, name: string, userPath: string, state: { excerpt: boolean }): string | null {
  if (/^#\d+ \d+\.\d+ /.test(line)) return line;
  if (/^-{8,}\s*$/.test(line)) {
    state.excerpt = !state.excerpt;
    return line;
  }
  if (state.excerpt) {
    const row = /^(\s*(?:>>>\s*)?)(\d+)( \|.*)$/s.exec(line);
    if (row) {
      const n = Number(row[2]);
      if (map.added.has(n)) return null;
      return `${row[1]}${String(userLine(map, n)).padStart(row[2]!.length)}${row[3]}`;
    }
  }
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return line
    .replace(/dockerfile parse error line (\d+)/g, (_m, n: string) => `dockerfile parse error line ${userLine(map, Number(n))} (${userPath}:${userLine(map, Number(n))})`)
    .replace(new RegExp(`(^|[\\s(])${escaped}:(\\d+)\\b`, 'g'), (_m, pre: string, n: string) => `${pre}${userPath}:${userLine(map, Number(n))}`);
}
