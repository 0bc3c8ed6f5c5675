/**
 * Phase timings of a run (ms since the process started), for --report and
 * SECBUILD_DEBUG=1. From process.uptime(), not the `performance` global:
 * that getter loads perf_hooks (9 modules, ~1 ms of a cached build). With
 * each, this process's own CPU time (user + system, process.cpuUsage(): one
 * call, no module), which a machine busy with something else moves far less
 * than the wall clock.
 */
// Once per process, not per bundle: compose and exec mark phases from their own bundles (scripts/build.mjs).
const MARKS = Symbol.for('secbuild.timing.marks');
const marks: Array<[string, number, number]> = ((globalThis as { [MARKS]?: Array<[string, number, number]> })[MARKS] ??= []);

export function mark(phase: string): void {
  const cpu = process.cpuUsage();
  marks.push([phase, process.uptime() * 1000, (cpu.user + cpu.system) / 1000]);
}

/** Each phase with its duration and CPU time: from the previous mark to this one. */
export function phases(): Array<{ phase: string; at: number; ms: number; cpu: number }> {
  return marks.map(([phase, at, cpu], i) => ({ phase, at: round(at), ms: round(at - (i === 0 ? 0 : marks[i - 1]![1])), cpu: round(cpu - (i === 0 ? 0 : marks[i - 1]![2])) }));
}

const round = (n: number) => Math.round(n * 10) / 10;
