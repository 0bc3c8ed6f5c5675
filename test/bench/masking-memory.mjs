// Compile time and memory of the masking matcher (src/guards/matcher.ts) for
// the largest secret BuildKit takes: a 500 KiB random binary value (its
// per-secret limit; a .p12 or a keystore), with all its forms from
// patternsFor.
//
//   node test/bench/masking-memory.mjs       # alone; exit 1 on a FAIL line
//   import { benchMaskingMemory } from './masking-memory.mjs'
//
// Fresh processes (this file with --memory-child=…), 3 that compile and 3
// controls that stop just before, alternating, build the patterns and settle
// the heap (GC); the first kind then times `new Matcher` (wall clock; CPU time
// too, which a busy machine inflates less). RSS added = median
// VmRSS after GC with the matcher alive - the same without; peak = VmHWM
// during the compile (reset through /proc/self/clear_refs) - VmRSS before it.
// Then, in this process, the Redactor's throughput on masking.mjs's 200 MB
// BuildKit log with that secret alone and beside its 100 tokens (no target:
// the 1- and 100-token targets are masking.mjs's).
// Targets: compile <= 200 ms (median), <= 64 MiB RSS (added and peak).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadMask, makeChunks, makeSecrets, median, rng, time } from './masking.mjs';

const BIG = 500 * 1024;
const TARGET_COMPILE_MS = 200;
const TARGET_RSS_MIB = 64;
const MiB = 2 ** 20;

/** The same 500 KiB of seeded random bytes in every process. */
function bigSecret() {
  const next = rng(500);
  return { id: 'p12', value: Buffer.from(Array.from({ length: BIG }, () => next(256))) };
}

/**
 * In a fresh process: patterns for one 500 KiB secret, settled by GC; then, unless `control`, `new Matcher` timed.
 * Reports VmRSS after (GC again, the matcher alive) and the peak during the compile (VmHWM reset just before).
 */
async function memoryChild(control) {
  const mask = await loadMask();
  const patterns = mask.patternsFor([bigSecret()]);
  const status = () => Object.fromEntries([...readFileSync('/proc/self/status', 'utf8').matchAll(/^(VmRSS|VmHWM):\s+(\d+) kB/gm)].map((m) => [m[1], m[2] * 1024]));
  const settle = async () => {
    for (let i = 0; i < 3; i++) globalThis.gc(), await new Promise((r) => setTimeout(r, 50));
  };
  await settle();
  let resetPeak = true;
  try { writeFileSync('/proc/self/clear_refs', '5'); } catch { resetPeak = false; }
  const before = status();
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const matcher = control ? undefined : new mask.Matcher(patterns.map((p) => p.bytes));
  const cpu = process.cpuUsage(cpu0);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const peak = resetPeak ? status().VmHWM - before.VmRSS : undefined;
  await settle();
  const rss = status().VmRSS;
  const { anchor, stateCount, stride, tableBytes } = matcher ?? {};
  const patternBytes = patterns.reduce((a, p) => a + p.bytes.length, 0);
  console.log(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1e3, rss, peak, patterns: patterns.length, patternBytes, anchor, stateCount, stride, tableBytes }));
}

function child(mode) {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), `--memory-child=${mode}`], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`masking memory child failed (${r.signal ?? `exit ${r.status}`}): ${String(r.stderr).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

export async function benchMaskingMemory({ log = console.log } = {}) {
  const runs = [];
  const controls = [];
  for (let i = 0; i < 3; i++) controls.push(child('control')), runs.push(child('compile'));
  const [first] = runs;
  const ms = median(runs.map((r) => r.ms));
  const added = (median(runs.map((r) => r.rss)) - median(controls.map((r) => r.rss))) / MiB;
  const peak = Math.max(...runs.map((r) => r.peak ?? 0)) / MiB;
  const mib = (x) => (x / MiB).toFixed(1);
  log(`500 KiB random binary secret: ${first.patterns} patterns, ${mib(first.patternBytes)} MiB of pattern bytes; anchor ${first.anchor} bytes, ${first.stateCount} states x ${first.stride} byte classes, ${mib(first.tableBytes)} MiB of tables`);
  log(`compile (new Matcher, fresh processes): ${runs.map((r) => r.ms.toFixed(0)).join(' / ')} ms, median ${ms.toFixed(0)} ms (CPU time ${runs.map((r) => r.cpuMs.toFixed(0)).join(' / ')} ms)`);
  log(`RSS after GC: ${runs.map((r) => mib(r.rss)).join(' / ')} MiB with the matcher, ${controls.map((r) => mib(r.rss)).join(' / ')} MiB without (patterns only): ${added.toFixed(1)} MiB added (medians); peak during compile +${runs.map((r) => (r.peak === undefined ? '?' : mib(r.peak))).join(' / ')} MiB`);

  // Throughput with it, on the masking section's log: alone, and beside the 100 tokens.
  const mask = await loadMask();
  const chunks = makeChunks(makeSecrets());
  const big = bigSecret();
  for (const [name, secrets] of [['the 500 KiB secret alone', [big]], ['it and the 100 tokens', [big, ...makeSecrets()]]]) {
    const patterns = mask.patternsFor(secrets);
    const { mbps } = await time((cs) => {
      const r = new mask.Redactor(patterns, () => {}, { idleMs: 0 });
      for (const c of cs) r.write(c);
      r.end();
    }, chunks);
    log(`Redactor with ${name} (${patterns.length} patterns): ${mbps.toFixed(0)} MB/s`);
  }
  log('(throughput with 1 and with 100 tokens, and its targets: the log-masking section)');
  const worst = Math.max(added, peak);
  const okMs = ms <= TARGET_COMPILE_MS;
  const okRss = worst <= TARGET_RSS_MIB;
  log(`target: 500 KiB secret compiles in <= ${TARGET_COMPILE_MS} ms (median ${ms.toFixed(0)} ms): ${okMs ? 'PASS' : 'FAIL'}`);
  log(`target: 500 KiB secret adds <= ${TARGET_RSS_MIB} MiB RSS (added or peak, the larger: ${worst.toFixed(1)} MiB): ${okRss ? 'PASS' : 'FAIL'}`);
  return { pass: okMs && okRss };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const mode = process.argv.find((a) => a.startsWith('--memory-child='))?.slice('--memory-child='.length);
  if (mode) await memoryChild(mode === 'control');
  else process.exitCode = (await benchMaskingMemory()).pass ? 0 : 1;
}
