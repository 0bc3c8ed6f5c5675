// Startup and fully cached build of two or more built checkouts, alternating:
//
//   git worktree add /tmp/old <commit> && (cd /tmp/old && npm ci)
//   node test/bench/compare.mjs /tmp/old .          # BENCH_RUNS=30 by default
//
// Each checkout runs `bin/secbuild.js --version` and the bench's cached build
// (one secret mount, output to a pipe) in turn, the order rotating every round,
// with an XDG_CACHE_HOME and a secret root of its own, so that no checkout
// reads another's preflight or code cache. The first 3 rounds warm up (engine
// detection, the code cache) and are not counted. Prints the medians and each
// checkout's difference from the first. Needs the daemon and the base image
// .ci/provision.sh imports, as `npm run bench` does.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const trees = process.argv.slice(2).map((t) => resolve(t));
if (trees.length < 2) {
  console.error('usage: node test/bench/compare.mjs CHECKOUT CHECKOUT [...] (each built: npm ci or npm run build)');
  process.exit(2);
}
for (const t of trees) {
  if (!existsSync(join(t, 'bin', 'secbuild.js')) || !existsSync(join(t, 'dist'))) {
    console.error(`compare: ${t} has no bin/secbuild.js and dist/; run npm ci (or npm run build) there first.`);
    process.exit(2);
  }
}
const N = Number(process.env.BENCH_RUNS || 30);
const WARMUP = 3;
const DOCKER = process.env.SECBUILD_DOCKER || '/usr/bin/docker';
const SHM = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const scratch = mkdtempSync(join(tmpdir(), 'secbuild-compare-'));
const context = join(scratch, 'ctx');
spawnSync('mkdir', [context]);
writeFileSync(join(context, 'Dockerfile'), 'FROM secbuild-test/busybox:local\nRUN --mount=type=secret,id=tok wc -c /run/secrets/tok\n');

const variants = trees.map((tree, i) => ({
  name: `${i}: ${tree}`,
  cli: join(tree, 'bin', 'secbuild.js'),
  image: `secbuild-compare-${process.pid}-${i}`,
  env: {
    ...process.env,
    DOCKER_BUILDKIT: '1',
    BENCH_TOKEN: 'bench-token-value',
    SECBUILD_DOCKER: DOCKER,
    SECBUILD_TMPDIR: mkdtempSync(join(SHM, 'secbuild-compare-run-')),
    XDG_CACHE_HOME: mkdtempSync(join(scratch, `cache-${i}-`)),
  },
  version: [],
  build: [],
}));

function time(args, env) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`secbuild ${args.slice(1).join(' ')} failed (exit ${r.status}): ${r.stderr.toString().trim()}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  for (let round = 0; round < N + WARMUP; round++) {
    for (let k = 0; k < variants.length; k++) {
      const v = variants[(round + k) % variants.length];
      const version = time([v.cli, '--version'], v.env);
      const build = time([v.cli, '-q', '--secret', 'id=tok,from=env:BENCH_TOKEN', '-t', v.image, context], v.env);
      if (round >= WARMUP) {
        v.version.push(version);
        v.build.push(build);
      }
    }
  }
  const [first] = variants;
  console.log(`N=${N} per checkout, alternating; medians in ms (difference from checkout 0)`);
  for (const v of variants) {
    const d = (a, b) => (v === first ? '' : ` (${a - b >= 0 ? '+' : ''}${(a - b).toFixed(1)})`);
    console.log(`  ${v.name}\n    --version ${median(v.version).toFixed(1)}${d(median(v.version), median(first.version))}   cached build ${median(v.build).toFixed(1)}${d(median(v.build), median(first.build))}`);
  }
} finally {
  for (const v of variants) {
    spawnSync(DOCKER, ['rmi', '-f', v.image], { stdio: 'ignore' });
    rmSync(v.env.SECBUILD_TMPDIR, { recursive: true, force: true });
  }
  rmSync(scratch, { recursive: true, force: true });
}
