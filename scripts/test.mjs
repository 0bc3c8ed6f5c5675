#!/usr/bin/env node
// `npm test`: runs every vitest tier (vitest.config.ts) and ends with what
// happened, so a green run cannot hide a skipped tier:
//
//   tests: 912 ran: 900 passed, 0 failed, 12 skipped (unit 512, conformance 60, cli 210, e2e 130)
//   skipped: [e2e] SKIPPED: the Docker daemon does not answer through /usr/bin/docker …
//
// A file that fails outside its tests (it does not load, or a hook throws)
// is a failure here, though vitest counts it as neither passed nor failed:
// `1 failed (1 file failed to load)` and a `failed to load: FILE` line. The
// line never says "0 failed" when the exit code is not 0.
//
// One line per skip reason the tiers print (every "… SKIPPED: why" line,
// once). When a tier's global setup refuses to start (CI=true and no daemon,
// no base image, no D-Bus), vitest first prints "No test files found", which
// is not the cause: that line is dropped and the cause repeated last.
// Arguments go to vitest (`npm test -- --project unit`). Exit code: vitest's.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'secbuild-test-report-'));
const json = join(dir, 'results.json');
const args = ['vitest', 'run', '--config', 'vitest.config.ts', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...process.argv.slice(2)];

const skips = new Map();
const setupErrors = [];
const held = [];
let tail = '';
// eslint-disable-next-line no-control-regex
const plain = (line) => line.replace(/\x1b\[[0-9;]*m/g, '');

function scan(line) {
  const text = plain(line).trim();
  // "WHAT SKIPPED: why" as test/helpers/ci.ts prints it; vitest's own "3 skipped" has no colon, and
  // a failing test's message that quotes such words ("AssertionError: expected '… skipped: …'") is not one.
  const skip = /^[\w[][^"'`]*? SKIPPED: .*/.exec(text);
  if (skip && !/^(\w*Error\b|expected\b)/.test(text)) skips.set(skip[0].replace(/\s+/g, ' '), true);
  const err = /^Error: (e2e tests cannot run in CI: .*)$/.exec(text);
  if (err) setupErrors.push(err[1]);
}

function forward(out) {
  return (chunk) => {
    tail += chunk.toString('utf8');
    const lines = tail.split('\n');
    tail = lines.pop();
    for (const line of lines) {
      scan(line);
      if (/No test files found/.test(plain(line))) held.push(line);
      else if (/^JSON report written to /.test(plain(line))) continue;
      else out.write(`${line}\n`);
    }
  };
}

const child = spawn('npx', args, { cwd: ROOT, stdio: ['inherit', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : process.env.FORCE_COLOR ?? '0' } });
child.stdout.on('data', forward(process.stdout));
child.stderr.on('data', forward(process.stderr));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));

child.on('close', (code, signal) => {
  const exit = signal ? 128 + ({ SIGINT: 2, SIGTERM: 15 }[signal] ?? 0) : (code ?? 1);
  if (tail) (scan(tail), process.stdout.write(`${tail}\n`));
  // "No test files found" is vitest's words for a global setup that threw; say so only when that is not why.
  if (setupErrors.length === 0) held.forEach((l) => process.stdout.write(`${l}\n`));
  const lines = [];
  try {
    const r = JSON.parse(readFileSync(json, 'utf8'));
    const tiers = {};
    for (const file of r.testResults ?? []) {
      const tier = /\/test\/([^/]+)\//.exec(file.name)?.[1] ?? 'other';
      tiers[tier] = (tiers[tier] ?? 0) + file.assertionResults.filter((a) => a.status === 'passed' || a.status === 'failed').length;
    }
    const ran = r.numPassedTests + r.numFailedTests;
    const per = Object.entries(tiers).map(([t, n]) => `${t} ${n}`).join(', ');
    // A file that failed with no failed test: it did not load (no test was collected), or a hook threw.
    const outside = (r.testResults ?? []).filter((f) => f.status === 'failed' && !f.assertionResults.some((a) => a.status === 'failed'));
    const how = (f) => (f.assertionResults.length === 0 ? 'failed to load' : 'failed in a hook');
    const notLoaded = outside.filter((f) => how(f) === 'failed to load').length;
    const why = [[notLoaded, 'failed to load'], [outside.length - notLoaded, 'failed in a hook']]
      .filter(([n]) => n > 0)
      .map(([n, h]) => `${n} file${n === 1 ? '' : 's'} ${h}`);
    const failedCount = r.numFailedTests + outside.length;
    const failed =
      failedCount === 0 && exit !== 0 ? `no test failed but vitest exited ${exit} (see above)` : `${failedCount} failed${why.length ? ` (${why.join(', ')})` : ''}`;
    lines.push(`tests: ${ran} ran: ${r.numPassedTests} passed, ${failed}, ${r.numPendingTests + r.numTodoTests} skipped${per ? ` (${per})` : ''}`);
    for (const f of outside) lines.push(`${how(f)}: ${relative(ROOT, f.name)}`);
  } catch {
    lines.push('tests: no result file was written (vitest stopped before running tests)');
  }
  for (const s of skips.keys()) lines.push(`skipped: ${s}`);
  for (const e of setupErrors) lines.push(`not run: ${e}`);
  process.stdout.write(`\n${lines.join('\n')}\n`);
  rmSync(dir, { recursive: true, force: true });
  process.exitCode = exit;
});
