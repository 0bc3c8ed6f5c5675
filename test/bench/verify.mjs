// Image-scan throughput of `secbuild verify` against a generated image.
//
//   import { benchVerify } from './verify.mjs'
//   const lines = await benchVerify({ docker, cli, mb, runs, log });
//
// The image (BENCH_VERIFY_MB, default 512 MiB of file data, one layer) is
// made by streaming a tar built here straight into `docker import -` — no
// file on disk — and removed afterwards. Its files mix what layers hold:
// ~45% random bytes (compressed assets, binaries), ~45% text (sources, logs:
// lines cut from a 1 MiB block), ~10% zeros; sizes from 4 KiB to 32 MiB,
// about 4,000 files. One file in the middle holds one secret value once, so
// every run must report exactly that hit (exit 4) — the scan is checked at
// scale, not only timed.
//
// Measured: `secbuild verify --format json` with 10 secrets (each with its
// base64 and URL-encoded forms: ~100 patterns), one untimed warm-up run, then
// `runs` timed runs. Throughput = layer bytes searched / wall-clock time of
// the whole process (node startup, `docker image inspect`, `docker history`
// and `docker save` — which writes the image to a temporary directory before
// it sends the first byte — included). Peak RSS of the verify process is
// read from /proc (VmHWM, sampled every 50 ms). Target: median >= 150 MB/s.
// Then `docker save IMAGE > /dev/null` and verify, alternating, `runs` each:
// target verify <= 1.25 x save (medians).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const TARGET_MBPS = 150;
/** `secbuild verify IMAGE` against `docker save IMAGE > /dev/null` (issue 9). */
export const SAVE_RATIO = 1.25;

/** Wall ms of `docker save IMAGE > /dev/null`. */
function timeSave(docker, image, env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(docker, ['save', image], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(`docker save failed (exit ${code}): ${err.trim()}`))));
  });
}

/** Seeded PRNG (mulberry32): the same file list on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function ustarHeader(name, size) {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

function textBlock() {
  const next = rng(7);
  const words = ['npm', 'install', 'RUN', 'COPY', 'sha256', 'layer', 'export', 'const', 'function', 'return', 'import', 'from', 'error', 'warning', 'info', '/usr/lib/node_modules', 'README.md', '{', '}', '=>', '0.1.0'];
  let text = '';
  while (text.length < 1 << 20) {
    const n = 4 + Math.floor(next() * 12);
    text += `${Array.from({ length: n }, () => words[Math.floor(next() * words.length)]).join(' ')}\n`;
  }
  return Buffer.from(text.slice(0, 1 << 20));
}

/**
 * Writes a tar of about `mb` MiB of mixed files through `write` (seed picks the
 * file list); plants `secret` once in a file past the middle when given.
 * Returns the planted file's path.
 */
export async function writeLayerTar(write, mb, secret, seed = 42) {
  const next = rng(seed);
  const text = textBlock();
  const total = mb * 1024 * 1024;
  const sizes = [4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 8 << 20, 32 << 20];
  let written = 0;
  let planted;
  for (let i = 0; written < total; i++) {
    const size = Math.min(sizes[Math.floor(next() * next() * sizes.length)], total - written) || 512;
    const kind = next();
    const path = `data/d${i % 64}/f${i}.${kind < 0.45 ? 'bin' : kind < 0.9 ? 'txt' : 'img'}`;
    const data = kind < 0.45 ? randomFillSync(Buffer.allocUnsafe(size)) : Buffer.alloc(size);
    if (kind >= 0.45 && kind < 0.9) for (let o = 0; o < size; o += text.length) text.copy(data, o, 0, Math.min(text.length, size - o));
    if (secret && !planted && written > total / 2 && size >= 4096) {
      Buffer.from(secret).copy(data, size >> 1);
      planted = `/${path}`;
    }
    await write(ustarHeader(path, size));
    await write(data);
    if (size % 512) await write(Buffer.alloc(512 - (size % 512)));
    written += size;
  }
  await write(Buffer.alloc(1024));
  return planted;
}

/** Streams a tar of about `mb` MiB of mixed files into `docker import -`; returns the planted file's path. */
export async function importImage(docker, image, mb, secret) {
  const child = spawn(docker, ['import', '-', image], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  const write = async (buf) => {
    if (!child.stdin.write(buf)) await new Promise((r) => child.stdin.once('drain', r));
  };
  const planted = await writeLayerTar(write, mb, secret);
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`docker import failed (exit ${code}): ${stderr.trim()}`);
  return planted;
}

function peakRss(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One verify run: wall ms, peak RSS, exit code, the parsed JSON result and stderr. */
export function runVerify(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let rss;
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setInterval(() => (rss = peakRss(child.pid) ?? rss), 50);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(timer);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      let result;
      try {
        result = JSON.parse(out);
      } catch {
        return reject(new Error(`verify printed no JSON (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`));
      }
      resolve({ ms, rss, code, result, stderr: err });
    });
  });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function benchVerify({ docker, node, cli, mb, runs, env: baseEnv, onImage }) {
  const image = `secbuild-bench-verify:${process.pid}`;
  onImage(image);
  const secrets = Array.from({ length: 10 }, () => randomBytes(18).toString('base64url'));
  const lines = [];
  const t0 = process.hrtime.bigint();
  const planted = await importImage(docker, image, mb, secrets[3]);
  const genMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const env = { ...baseEnv, SECBUILD_DOCKER: docker };
  const args = [cli, 'verify', '--format', 'json'];
  secrets.forEach((s, i) => {
    env[`BENCH_VERIFY_S${i}`] = s;
    args.push('--secret', `id=s${i},from=env:BENCH_VERIFY_S${i}`);
  });
  args.push(image);
  lines.push(`  image: ${mb} MiB of file data in one layer, generated and imported in ${(genMs / 1000).toFixed(1)} s; 10 secrets, one planted once at ${planted}`);

  const check = (r) => {
    const hits = r.result.hits ?? [];
    if (r.code !== 4 || hits.length !== 1 || hits[0].path !== planted || hits[0].secret !== 's3') {
      throw new Error(`verify did not report exactly the planted secret (exit ${r.code}, ${hits.length} hits: ${hits.map((h) => h.where).join('; ')})`);
    }
  };
  check(await runVerify(node, args, env)); // warm-up (page cache, engine detection)
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const r = await runVerify(node, args, env);
    check(r);
    samples.push(r);
    const mbps = r.result.layerBytes / 1e6 / (r.ms / 1000);
    lines.push(
      `  run ${i + 1}: ${(r.result.layerBytes / 1e6).toFixed(1)} MB of layer data in ${(r.ms / 1000).toFixed(2)} s wall (verify's own clock ${(r.result.ms / 1000).toFixed(2)} s): ` +
        `${mbps.toFixed(0)} MB/s; peak RSS ${r.rss ? `${(r.rss / 2 ** 20).toFixed(0)} MiB` : 'n/a'}`,
    );
  }
  const mbps = median(samples.map((r) => r.result.layerBytes / 1e6 / (r.ms / 1000)));
  lines.push(`  median: ${mbps.toFixed(0)} MB/s of layer data (wall clock, docker save included), N=${runs}`);
  lines.push(`target: verify throughput on an image of >= 500 MB: ${mbps.toFixed(0)} MB/s (target >= ${TARGET_MBPS} MB/s): ${mbps >= TARGET_MBPS && mb >= 477 ? 'PASS' : 'FAIL'}${mb < 477 ? ` (BENCH_VERIFY_MB=${mb} is below 500 MB)` : ''}`);

  // Against docker save alone, alternating (save, verify, save, verify, …): what verify adds to reading the image at all.
  const saves = [];
  const verifies = [];
  for (let i = 0; i < runs; i++) {
    saves.push(await timeSave(docker, image, baseEnv));
    const r = await runVerify(node, args, env);
    check(r);
    verifies.push(r.ms);
  }
  const ratio = median(verifies) / median(saves);
  lines.push(`  docker save ${image} > /dev/null: median ${(median(saves) / 1000).toFixed(2)} s; secbuild verify: median ${(median(verifies) / 1000).toFixed(2)} s (alternating, N=${runs})`);
  lines.push(`target: verify <= ${SAVE_RATIO} x docker save on an image of >= 300 MB: ${ratio.toFixed(2)} x ${ratio <= SAVE_RATIO && mb >= 287 ? 'PASS' : 'FAIL'}${mb < 287 ? ` (BENCH_VERIFY_MB=${mb} is below 300 MB)` : ''}`);
  return lines;
}

// Alone: node test/bench/verify.mjs (uses the built CLI).
if (import.meta.url === `file://${process.argv[1]}`) {
  const { fileURLToPath } = await import('node:url');
  const docker = process.env.SECBUILD_DOCKER || '/usr/bin/docker';
  let image;
  try {
    const lines = await benchVerify({
      docker,
      node: process.execPath,
      cli: fileURLToPath(new URL('../../bin/secbuild.js', import.meta.url)),
      mb: Number(process.env.BENCH_VERIFY_MB || 512),
      runs: Number(process.env.BENCH_VERIFY_RUNS || 3),
      env: process.env,
      onImage: (i) => (image = i),
    });
    for (const l of lines) console.log(l);
    process.exitCode = lines.some((l) => l.includes('FAIL')) ? 1 : 0;
  } finally {
    if (image) spawnSync(docker, ['rmi', '-f', image], { stdio: 'ignore' });
  }
}
