/**
 * Reading BuildKit's plain progress output (`--progress=plain`): which RUN
 * steps ran and which were cached (`#N [stage i/n] RUN …`, then `#N CACHED`).
 * The same for docker 20.10's classic front end and for buildx.
 */

/** The RUN steps that ran (not CACHED), by their instruction text. */
export function ranSteps(output: string): string[] {
  const names = new Map<string, string>();
  const cached = new Set<string>();
  for (const line of output.split('\n')) {
    const step = /^#(\d+) \[[^\]]*\d+\/\d+\] (RUN .*)$/.exec(line);
    if (step) names.set(step[1]!, step[2]!);
    const hit = /^#(\d+) CACHED$/.exec(line);
    if (hit) cached.add(hit[1]!);
  }
  return [...names].filter(([n]) => !cached.has(n)).map(([, name]) => name);
}
