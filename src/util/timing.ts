/**
 * Phase timings of a run (ms since the process started), for --report and
 * SECBUILD_DEBUG=1. From process.uptime(), not the `performance` global:
 * that getter loads perf_hooks (9 modules, ~1 ms of a cached build).
 */
// Once per process, not per bundle: compose and exec mark phases from their own bundles (scripts/build.mjs).
const MARKS = Symbol.for('secbuild.timing.marks');
const marks: Array<[string, number]> = ((globalThis as { [MARKS]?: Array<[string, number]> })[MARKS] ??= []);

export function mark(phase: string): void {
  marks.push([phase, process.uptime() * 1000]);
}

/** Each phase with its duration: the time from the previous mark to this one. */
export function phases(): Array<{ phase: string; at: number; ms: number }> {
  return marks.map(([phase, at], i) => ({ phase, at: round(at), ms: round(at - (i === 0 ? 0 : marks[i - 1]![1])) }));
}

const round = (n: number) => Math.round(n * 10) / 10;
