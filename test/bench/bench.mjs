// `npm run bench`: rerunnable timings for secbuild, one process, one run.
//
// Every section measures its variants in ALTERNATING repetitions
// (A B C, B C A, C A B, … — the order rotates each round) so machine noise
// and what one variant leaves behind (the daemon finishing a build) land on
// all of them alike. Each repetition is a fresh process started the same way
// — spawnSync, no shell, stdout and stderr to pipes, the same environment —
// and timed by wall clock (process.hrtime.bigint()); a run that does not exit
// 0 aborts the bench. A ratio's floor (`node -e 0`) is one more variant of
// the same alternation, so it is measured exactly as the runs it divides.
// Every variant's environment lacks NODE_OPTIONS and NODE_EXTRA_CA_CERTS:
// they change how node itself starts (a CA bundle read before any script
// costs ~60 ms of CPU on the test machine), which would inflate the floor and
// secbuild alike and pull every ratio toward 1.
//
// Each target prints one line `target: WHAT: FIGURE (target LIMIT): PASS|FAIL`,
// repeated in the summary at the end; the bench exits 1 when one FAILs (or a
// required section is skipped). Targets are judged on medians; a 2-core
// machine that is busy with something else moves them: re-run on a quiet one
// before believing a FAIL or a PASS (test/bench/independent.py measures the
// headline ratios a second, independent way).
//
// Environment:
//   BENCH_RUNS=30            repetitions per variant
//   BENCH_WARMUP=5           untimed repetitions per variant first
//   SECBUILD_DOCKER          docker client to use (default /usr/bin/docker, a
//                            20.10 client that builds with DOCKER_BUILDKIT=1)
//   BENCH_REQUIRE_DOCKER=1   exit 1, not 0, when the daemon or base image is missing
//   BENCH_VERIFY_MB=512      MiB of file data in the image `secbuild verify` scans
//                            (below 500 MB the section reports FAIL: the target
//                            is stated for >= 500 MB)
//   BENCH_VERIFY_RUNS=3      timed verify runs (each reads the whole image)
//   BENCH_ARCHIVE_MB=300     MiB of file data in the archive `verify --archive` scans
//   BENCH_ARCHIVE_RUNS=5     timed `verify --archive` runs (median reported)
//   BENCH_BUILDX_DOCKER      docker CLI with the buildx plugin, for the bake
//                            section (default /usr/local/bin/docker)
//   BENCH_IMAGE_PREFIX       prefix of the bake section's image tags (default
//                            secbuild-bench-; a lane sharing the daemon sets its own)
//   BENCH_SECTIONS=a,b       run only the sections whose title contains one of
//                            these words (default: all)
//   BENCH_IMAGE_PREFIX=secbuild-bench  repository part of the images the cached-build
//                            and cache-policy sections tag (each tag carries this
//                            process's pid, so two benches on one daemon never
//                            share or remove each other's image)
//
// To add a section (log-masking throughput, image-scan throughput, …), write
// `async function x(ctx)` that returns result lines and add it to SECTIONS.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin/secbuild.js');
const NODE = process.execPath;
const DOCKER = process.env.SECBUILD_DOCKER || '/usr/bin/docker';
/** A docker CLI with the buildx plugin, for the bake section. */
const BUILDX_DOCKER = process.env.BENCH_BUILDX_DOCKER || '/usr/local/bin/docker';
const BASE_IMAGE = 'secbuild-test/busybox:local';
const IMAGE_PREFIX = process.env.BENCH_IMAGE_PREFIX || 'secbuild-bench';
const BENCH_IMAGE = `${IMAGE_PREFIX}:cached-${process.pid}`;
const RUNS = positiveInt('BENCH_RUNS', 30);
const WARMUP = positiveInt('BENCH_WARMUP', 5);
const SHM = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
/** Variables that change how node itself starts (see the header): removed from every variant's environment. */
const NODE_STARTUP_VARS = ['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS'];
/** A cached build's overhead over the raw docker build, in bare node starts (issue 28). */
const BUILD_RATIO = 1.5;

// ---- shared helpers -------------------------------------------------------

function positiveInt(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1) return n;
  console.error(`bench: ${name} must be a positive integer, got "${raw}"`);
  process.exit(2);
}

/** The environment of every timed variant: this process's, without NODE_STARTUP_VARS, plus `extra`. */
function baseEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  for (const name of NODE_STARTUP_VARS) delete env[name];
  return env;
}

/** One target's line: what, the figure, the limit, PASS or FAIL (collected into the summary by its `target:` prefix). */
function verdict(what, figure, limit, ok) {
  return `target: ${what}: ${figure} (target ${limit}): ${ok ? 'PASS' : 'FAIL'}`;
}

class BenchError extends Error {}
/** Thrown by a section that cannot run here; `required` makes the bench exit 1. */
class Skip extends Error {
  constructor(message, required = false) { super(message); this.required = required; }
}

/** One timed process run in ms; throws unless it exits 0. */
function timeOnce(v) {
  const start = process.hrtime.bigint();
  const r = spawnSync(v.cmd, v.args, { env: v.env, cwd: v.cwd, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error || r.status !== 0) {
    const why = r.error ? r.error.message : r.signal ? `signal ${r.signal}` : `exit code ${r.status}`;
    const tail = String(r.stderr ?? '').trim().split('\n').slice(-5).join('\n    ');
    throw new BenchError(`"${v.name}" failed (${why}): ${[v.cmd, ...v.args].join(' ')}${tail ? `\n    ${tail}` : ''}`);
  }
  return ms;
}

/** Warms up, then times `runs` rounds of all variants, the order rotating each round. Returns name → samples. */
function alternate(variants, { runs = RUNS, warmup = WARMUP } = {}) {
  for (let i = 0; i < warmup; i++) for (const v of variants) timeOnce(v);
  const samples = new Map(variants.map((v) => [v.name, []]));
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(i + k) % variants.length];
      samples.get(v.name).push(timeOnce(v));
      v.after?.(); // a variant's own reading of the run just timed (e.g. its --report)
    }
  }
  return samples;
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return {
    n: s.length,
    median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p10: s[Math.max(0, Math.ceil(0.1 * s.length) - 1)],
    p90: s[Math.ceil(0.9 * s.length) - 1],
  };
}

const ms = (x) => x.toFixed(1).padStart(9);

/** Table rows "variant  median  mean  p90" plus name → stats for derived figures. */
function table(samples) {
  const width = Math.max(...[...samples.keys()].map((k) => k.length), 7);
  const out = { rows: [`  ${'variant'.padEnd(width)} ${'median'.padStart(9)} ${'mean'.padStart(9)} ${'p10'.padStart(9)} ${'p90'.padStart(9)}  (ms, N=${RUNS})`], by: {} };
  for (const [name, xs] of samples) {
    const st = (out.by[name] = stats(xs));
    out.rows.push(`  ${name.padEnd(width)} ${ms(st.median)} ${ms(st.mean)} ${ms(st.p10)} ${ms(st.p90)}`);
  }
  return out;
}

const temps = [];
function tempDir(parent, prefix) {
  const dir = mkdtempSync(join(parent, prefix)); // mode 0700
  temps.push(dir);
  return dir;
}

// ---- sections -------------------------------------------------------------

const FLOOR = 'node -e 0';
/** The floor of a ratio: a bare node start, timed as one more variant of the runs it divides (same spawn, same env). */
const floor = (env) => ({ name: FLOOR, cmd: NODE, args: ['-e', '0'], env });

const NODE_WRAPPER = join(ROOT, 'test/bench/node-wrapper.cjs');
/** `raw` run through ./node-wrapper.cjs: node that only spawns the command and pipes its output (what no node wrapper can go below). */
const throughNode = (raw, name = `${raw.name.replace(/ \(raw.*\)$/, '')} via a bare node wrapper`) => ({ ...raw, name, cmd: NODE, args: [NODE_WRAPPER, raw.cmd, ...raw.args] });

/**
 * The lines that put a ratio target beside the floor under it: the bare node
 * wrapper's overhead over the raw command, in node starts, and what the target
 * leaves secbuild's own work (what secbuild takes beyond that wrapper).
 */
function wrapperFloor(t, { raw, wrapper, ours, limit }) {
  const bare = t.by[FLOOR].median;
  const floorMs = t.by[wrapper].median - t.by[raw].median;
  const ownMs = t.by[ours].median - t.by[wrapper].median;
  const budget = (limit - floorMs / bare) * bare;
  return [
    `  a node wrapper that only spawns the command and pipes its output: ${floorMs.toFixed(1)} ms over the raw command = ${(floorMs / bare).toFixed(2)} x the bare node start (node's own start, child_process and one spawn: what every node wrapper pays)`,
    `  secbuild's own work beyond that wrapper: ${ownMs.toFixed(1)} ms; a ${limit} x target leaves it ${budget.toFixed(1)} ms`,
  ];
}

async function startup() {
  const env = baseEnv();
  const samples = alternate([floor(env), { name: 'secbuild --version', cmd: NODE, args: [CLI, '--version'], env }]);
  const t = table(samples);
  return [...t.rows, `  startup overhead: ${(t.by['secbuild --version'].median - t.by[FLOOR].median).toFixed(1)} ms (median secbuild --version - median node -e 0)`];
}

function dockerProblem() {
  if (!existsSync(DOCKER)) return `${DOCKER} does not exist (install docker.io or set SECBUILD_DOCKER)`;
  const run = (...args) => spawnSync(DOCKER, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;
  if (!run('info')) return `the Docker daemon does not answer through ${DOCKER}`;
  if (!run('image', 'inspect', BASE_IMAGE)) return `the base image ${BASE_IMAGE} is missing (.ci/provision.sh imports it)`;
  return undefined;
}

async function cachedBuild(ctx) {
  const problem = dockerProblem();
  if (problem) throw new Skip(problem, process.env.BENCH_REQUIRE_DOCKER === '1');
  ctx.cleanups.push(() => spawnSync(DOCKER, ['rmi', '-f', BENCH_IMAGE], { stdio: 'ignore' }));

  const context = tempDir(tmpdir(), 'secbuild-bench-ctx-');
  writeFileSync(join(context, 'Dockerfile'), `FROM ${BASE_IMAGE}\nRUN --mount=type=secret,id=tok wc -c /run/secrets/tok > /n\n`);
  const token = 'bench-token-value';
  const secretFile = join(tempDir(SHM, 'secbuild-bench-secret-'), 'tok');
  writeFileSync(secretFile, token, { mode: 0o600 });
  chmodSync(secretFile, 0o600);

  // One environment for every variant, the floor's included: the same variables, the same size.
  const env = baseEnv({
    DOCKER_BUILDKIT: '1',
    BENCH_TOKEN: token,
    SECBUILD_DOCKER: DOCKER,
    SECBUILD_TMPDIR: tempDir(SHM, 'secbuild-bench-run-'),
    XDG_CACHE_HOME: tempDir(tmpdir(), 'secbuild-bench-cache-'),
  });
  const raw = 'docker build (raw)';
  // Output goes to a pipe here, as in CI, so secbuild masks it: the default and the figure the target is about.
  const wrapped = 'secbuild build';
  const unmasked = 'secbuild --no-mask';
  const rawBuild = { name: raw, cmd: DOCKER, args: ['build', '-q', '--secret', `id=tok,src=${secretFile}`, '-t', BENCH_IMAGE, context], env };
  const viaNode = throughNode(rawBuild);
  const samples = alternate([
    rawBuild,
    { name: wrapped, cmd: NODE, args: [CLI, '-q', '--secret', 'id=tok,from=env:BENCH_TOKEN', '-t', BENCH_IMAGE, context], env },
    { name: unmasked, cmd: NODE, args: [CLI, '--no-mask', '-q', '--secret', 'id=tok,from=env:BENCH_TOKEN', '-t', BENCH_IMAGE, context], env },
    viaNode,
    floor(env),
  ]);
  const t = table(samples);
  const overhead = t.by[wrapped].median - t.by[raw].median;
  const bare = t.by[FLOOR].median;
  const ratio = overhead / bare;
  return [
    ...t.rows,
    `  build overhead: ${overhead.toFixed(1)} ms (median secbuild build - median raw build; output masked, as in CI)`,
    `  of which masking: ${(t.by[wrapped].median - t.by[unmasked].median).toFixed(1)} ms (median secbuild build - median secbuild --no-mask)`,
    `  bare node start (the floor, timed in the same rounds): ${bare.toFixed(1)} ms median`,
    ...wrapperFloor(t, { raw, wrapper: viaNode.name, ours: wrapped, limit: BUILD_RATIO }),
    verdict('fully cached build, overhead over the raw docker build / bare node start', `${ratio.toFixed(2)} x (${overhead.toFixed(1)} / ${bare.toFixed(1)} ms)`, `<= ${BUILD_RATIO} x`, ratio <= BUILD_RATIO),
  ];
}

/**
 * A fully cached build whose secret has cache=content against the same build
 * with a stable secret: the price of the policy (the key, the MAC, the
 * derived Dockerfile, docker reading it) when nothing rebuilds. Target: <= 5
 * ms. Reported three ways: the whole run's wall clock (docker's variance is
 * in it), secbuild's own time (its --report without `docker`), and the two
 * phases the policy adds work to, where the target is judged.
 */
async function cachePolicy(ctx) {
  const problem = dockerProblem();
  if (problem) throw new Skip(problem, process.env.BENCH_REQUIRE_DOCKER === '1');
  const tags = ['stable', 'content-file', 'content-env'].map((v) => `${IMAGE_PREFIX}:cache-${v}-${process.pid}`);
  ctx.cleanups.push(() => spawnSync(DOCKER, ['rmi', '-f', ...tags], { stdio: 'ignore' }));
  const context = tempDir(tmpdir(), 'secbuild-bench-ctx-');
  writeFileSync(join(context, 'Dockerfile'), `FROM ${BASE_IMAGE}\nRUN echo before > /b\nRUN --mount=type=secret,id=tok wc -c /run/secrets/tok > /n\n`);
  const env = baseEnv({
    DOCKER_BUILDKIT: '1',
    BENCH_TOKEN: 'bench-token-value',
    SECBUILD_DOCKER: DOCKER,
    SECBUILD_TMPDIR: tempDir(SHM, 'secbuild-bench-run-'),
    XDG_CACHE_HOME: tempDir(tmpdir(), 'secbuild-bench-cache-'),
    // The key file (created in the warm-up, then read): the default store where no keychain answers.
    XDG_CONFIG_HOME: tempDir(tmpdir(), 'secbuild-bench-config-'),
    SECBUILD_KEYCHAIN_BACKEND: 'none-in-the-bench',
  });
  // Each run also writes a --report: its timings give secbuild's own time (every phase but `docker`), free of the daemon's noise.
  const own = new Map();
  // The two phases a policy adds work to: `checks` (the MACs, the derived text) and `files` (writing it).
  const phases = new Map();
  const build = (name, tag, spec, extra = {}) => {
    const report = join(env.XDG_CACHE_HOME, `${tag.replace(/\W/g, '-')}.json`);
    own.set(name, []);
    return {
      name,
      cmd: NODE,
      args: [CLI, '-q', '--report', report, '--secret', spec, '-t', tag, context],
      env: { ...env, ...extra },
      after: () => {
        const timings = JSON.parse(readFileSync(report, 'utf8')).timings;
        own.get(name).push(timings.filter((t) => t.phase !== 'docker').reduce((n, t) => n + t.ms, 0));
        const policy = `${name}: checks + files`;
        if (!phases.has(policy)) phases.set(policy, []);
        phases.get(policy).push(timings.filter((t) => t.phase === 'checks' || t.phase === 'files').reduce((n, t) => n + t.ms, 0));
      },
    };
  };
  const stable = 'cache=stable (default)';
  const file = 'cache=content, key file';
  const fromEnv = 'cache=content, SECBUILD_CACHE_KEY';
  const samples = alternate([
    build(stable, tags[0], 'id=tok,from=env:BENCH_TOKEN'),
    build(file, tags[1], 'id=tok,from=env:BENCH_TOKEN,cache=content'),
    build(fromEnv, tags[2], 'id=tok,from=env:BENCH_TOKEN,cache=content', { SECBUILD_CACHE_KEY: 'b'.repeat(64) }),
  ]);
  const t = table(samples);
  const o = table(own);
  const p = table(phases);
  const over = (by, name, base = stable) => (by[name].median - by[base].median).toFixed(1);
  const worst = Math.max(p.by[`${file}: checks + files`].median, p.by[`${fromEnv}: checks + files`].median) - p.by[`${stable}: checks + files`].median;
  return [
    '  wall clock, whole run (docker included):',
    ...t.rows,
    `  cache=content overhead, wall clock: key file ${over(t.by, file)} ms, SECBUILD_CACHE_KEY ${over(t.by, fromEnv)} ms (medians; the daemon's own variance is in it)`,
    "  secbuild's own time (the --report's phases without `docker`):",
    ...o.rows,
    `  cache=content overhead, secbuild's own time: key file ${over(o.by, file)} ms, SECBUILD_CACHE_KEY ${over(o.by, fromEnv)} ms (medians)`,
    "  the phases a policy adds to (`checks`: MACs and derived text; `files`: writing it):",
    ...p.rows,
    `  cache=content overhead in those phases: key file ${over(p.by, `${file}: checks + files`, `${stable}: checks + files`)} ms, SECBUILD_CACHE_KEY ${over(p.by, `${fromEnv}: checks + files`, `${stable}: checks + files`)} ms (medians)`,
    verdict('cache=content over cache=stable, fully cached build (the phases it adds to; the wall clock above also carries docker\'s side)', `${worst.toFixed(1)} ms`, '<= 5 ms', worst <= 5),
  ];
}

async function masking() {
  const { benchMasking } = await import('./masking.mjs');
  const lines = [];
  await benchMasking({ log: (line) => lines.push(`  ${line}`) });
  return lines;
}

async function maskingMemory() {
  const { benchMaskingMemory } = await import('./masking-memory.mjs');
  const lines = [];
  await benchMaskingMemory({ log: (line) => lines.push(`  ${line}`) });
  return lines;
}

async function verifyScan(ctx) {
  const problem = dockerProblem();
  if (problem) throw new Skip(problem, process.env.BENCH_REQUIRE_DOCKER === '1');
  const { benchVerify } = await import('./verify.mjs');
  return benchVerify({
    docker: DOCKER,
    node: NODE,
    cli: CLI,
    mb: positiveInt('BENCH_VERIFY_MB', 512),
    runs: positiveInt('BENCH_VERIFY_RUNS', 3),
    env: baseEnv({ XDG_CACHE_HOME: tempDir(tmpdir(), 'secbuild-bench-cache-') }),
    onImage: (image) => ctx.cleanups.push(() => spawnSync(DOCKER, ['rmi', '-f', image], { stdio: 'ignore' })),
  });
}

/** `secbuild bake` over a fully cached `docker buildx bake`, 1 and 10 targets (./bake.mjs). Needs docker with buildx. */
async function bakeOverhead(ctx) {
  const problem = dockerProblem() ?? (existsSync(BUILDX_DOCKER) ? undefined : `${BUILDX_DOCKER} (a docker CLI with the buildx plugin) does not exist; set BENCH_BUILDX_DOCKER`);
  if (problem) throw new Skip(problem, process.env.BENCH_REQUIRE_DOCKER === '1');
  const { benchBake } = await import('./bake.mjs');
  const env = baseEnv({
    BENCH_TOKEN: 'bench-token-value',
    SECBUILD_DOCKER: BUILDX_DOCKER,
    SECBUILD_TMPDIR: tempDir(SHM, 'secbuild-bench-run-'),
    XDG_CACHE_HOME: tempDir(tmpdir(), 'secbuild-bench-cache-'),
  });
  return benchBake({
    docker: BUILDX_DOCKER, node: NODE, cli: CLI, base: BASE_IMAGE, env, dir: tempDir(tmpdir(), 'secbuild-bench-bake-'),
    alternate, table, floor, verdict, throughNode, wrapperFloor,
    onImage: (image) => ctx.cleanups.push(() => spawnSync(DOCKER, ['rmi', '-f', image], { stdio: 'ignore' })),
  });
}

/** `secbuild compose up` and `secbuild run --rm` over the raw commands (./runtime.mjs). Needs docker and Compose v2. */
async function runtimeOverhead(ctx) {
  const problem = dockerProblem();
  if (problem) throw new Skip(problem, process.env.BENCH_REQUIRE_DOCKER === '1');
  const { benchRuntime } = await import('./runtime.mjs');
  const env = baseEnv({ SECBUILD_DOCKER: DOCKER, SECBUILD_TMPDIR: tempDir(SHM, 'secbuild-bench-run-'), XDG_CACHE_HOME: tempDir(tmpdir(), 'secbuild-bench-cache-') });
  const dir = tempDir(tmpdir(), 'secbuild-bench-runtime-');
  ctx.cleanups.push(() => spawnSync(DOCKER, ['compose', '-p', 'secbuild-bench-runtime', 'down'], { cwd: dir, stdio: 'ignore' }));
  return benchRuntime({ docker: DOCKER, node: NODE, cli: CLI, base: BASE_IMAGE, env, dir, alternate, table, floor, verdict, throughNode, wrapperFloor });
}

/** `secbuild verify --archive FILE`: an archive written here (no docker needed), searched from disk. Target: >= 300 MB/s. */
async function archiveScan() {
  const { benchArchive } = await import('./archive.mjs');
  return benchArchive({
    node: NODE,
    cli: CLI,
    dir: tempDir(tmpdir(), 'secbuild-bench-archive-'),
    mb: positiveInt('BENCH_ARCHIVE_MB', 300),
    runs: positiveInt('BENCH_ARCHIVE_RUNS', 5),
    env: { ...process.env, XDG_CACHE_HOME: tempDir(tmpdir(), 'secbuild-bench-cache-') },
  });
}

const SECTIONS = [
  ['startup', startup],
  ['wrapper overhead, fully cached build', cachedBuild],
  ['cache policy overhead, fully cached build', cachePolicy],
  ['log masking throughput (streaming redactor)', masking],
  ['masking memory, 500 KiB binary secret (compile time, RSS)', maskingMemory],
  ['bake overhead, fully cached buildx bake, 1 and 10 targets', bakeOverhead],
  ['run-time secrets overhead, compose up and run --rm', runtimeOverhead],
  ['image scan throughput (secbuild verify, docker save streamed)', verifyScan],
  ['archive scan throughput (secbuild verify --archive, from a file)', archiveScan],
];

// ---- runner ---------------------------------------------------------------

async function section(name, fn, ctx) {
  console.log(`\n## ${name}`);
  try {
    for (const line of await fn(ctx)) {
      console.log(line);
      if (line.trimStart().startsWith('target:')) ctx.targets.push({ section: name, line: line.trim() });
    }
  } catch (err) {
    if (!(err instanceof Skip)) throw err;
    console.log(`  SKIPPED: ${err.message}`);
    if (err.required) ctx.exitCode = 1;
  }
}

async function main() {
  const ctx = { cleanups: [], exitCode: 0, targets: [] };
  const cleanup = () => {
    for (const fn of ctx.cleanups.splice(0)) fn();
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => { cleanup(); process.exit(130); });
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`secbuild bench: node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, docker ${DOCKER}`);
  console.log(`runs per variant: ${RUNS} (BENCH_RUNS), warmup: ${WARMUP} (BENCH_WARMUP), order: alternating, rotating; load average at start: ${load()}`);
  const dropped = NODE_STARTUP_VARS.filter((name) => process.env[name] !== undefined);
  if (dropped.length > 0) console.log(`removed from every variant's environment (they change node's own start): ${dropped.join(', ')}`);
  try {
    const only = (process.env.BENCH_SECTIONS ?? '').split(',').map((w) => w.trim()).filter(Boolean);
    for (const [name, fn] of SECTIONS) if (only.length === 0 || only.some((w) => name.includes(w))) await section(name, fn, ctx);
  } catch (err) {
    cleanup();
    console.error(`\nbench: aborted: ${err instanceof BenchError ? err.message : err?.stack ?? err}`);
    process.exit(1);
  }
  cleanup();
  console.log('\n## targets');
  for (const { section: name, line } of ctx.targets) console.log(`  [${name}] ${line.replace(/^target: /, '')}`);
  if (ctx.targets.length === 0) console.log('  (none measured)');
  console.log(`\nload average at end: ${load()} (a busy machine moves every figure: judge PASS/FAIL on a quiet one)`);
  process.exitCode = ctx.exitCode || (ctx.targets.some((t) => /\bFAIL\b/.test(t.line)) ? 1 : 0);
}

await main();
