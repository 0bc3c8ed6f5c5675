import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkDockerfile, preflightLeaks } from '../../src/check/index.js';
import { parseDockerfile, parserRuns } from '../../src/dockerfile/model.js';
import { cachedMounts } from '../../src/pipeline/preflight.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'secbuild-once-'));
  dirs.push(d);
  return d;
};

/** A build context whose Dockerfile needs every rule; `tag` makes its text unique, so no earlier parse is reused. */
function fixture(tag: string) {
  const dir = tmp();
  const dockerfile = [
    `# ${tag}`,
    'FROM a AS deps',
    'ARG NPM_TOKEN',
    'RUN --mount=type=secret,id=npm --mount=type=ssh cp /run/secrets/npm /x',
    'FROM deps',
    'COPY . .',
    'COPY .npmrc /root/',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  writeFileSync(join(dir, '.env'), 'placeholder');
  return { dir, input: { dockerfile, path: join(dir, 'Dockerfile'), target: undefined, buildArgs: { X: '1' } } };
}

/** How many parses `fn` runs. */
async function parsesDuring(fn: () => Promise<unknown>): Promise<number> {
  const before = parserRuns();
  await fn();
  return parserRuns() - before;
}

describe('the Dockerfile is parsed once', () => {
  test('secbuild check: every rule, one parse', async () => {
    const { dir, input } = fixture('check');
    let findings: string[] = [];
    const n = await parsesDuring(async () => {
      const r = await checkDockerfile({ ...input, context: dir, secrets: { provided: new Set(['spare']), optional: new Set() } });
      findings = r.findings.map((f) => f.rule);
    });
    expect(n).toBe(1);
    expect(new Set(findings)).toEqual(new Set(['secret-id-missing', 'secret-id-unused', 'ssh-id-missing', 'secret-in-arg-or-env', 'credential-file-copied', 'secret-written-to-layer']));
  });

  test('a build preflight on a cache miss, then check\'s error rules: one parse', async () => {
    const { dir, input } = fixture('miss');
    const env = { XDG_CACHE_HOME: tmp() };
    let leaks: string[] = [];
    const n = await parsesDuring(async () => {
      const scan = await cachedMounts(input, env);
      expect(scan.mounts.map((m) => m.id)).toEqual(['npm']);
      expect(scan.sshMounts.map((m) => m.id)).toEqual(['default']);
      leaks = await preflightLeaks({ ...input }, dir); // a copy: the model is found by content, not identity
    });
    expect(n).toBe(1);
    expect(leaks).toEqual([expect.stringMatching(/Dockerfile:6: COPY \. brings the credential file "\.env"/), expect.stringMatching(/Dockerfile:7: COPY copies the credential file "\.npmrc"/)]);
  });

  test('a repeated build reads the scan from the on-disk cache (ids and lines only), not the parser', async () => {
    const { input } = fixture('hit');
    const env = { XDG_CACHE_HOME: tmp() };
    const first = await cachedMounts(input, env);
    const [file] = readdirSync(join(env.XDG_CACHE_HOME, 'secbuild', 'preflight'));
    const path = join(env.XDG_CACHE_HOME, 'secbuild', 'preflight', file!);
    const entry = JSON.parse(readFileSync(path, 'utf8')) as { scan: typeof first };
    expect(entry.scan).toEqual(first);
    expect(JSON.stringify(entry)).not.toContain('"1"'); // the build-arg value is only in a digest
    entry.scan.notes = ['planted'];
    writeFileSync(path, JSON.stringify(entry));
    let again: typeof first | undefined;
    expect(await parsesDuring(async () => (again = await cachedMounts({ ...input }, env)))).toBe(0);
    expect(again!.notes).toEqual(['planted']);
  });

  test.each<[string, Record<string, unknown>, number]>([
    ['the same input again: no parse', {}, 0],
    ['another target: a parse', { target: 'deps' }, 1],
    ['other build-args: a parse', { buildArgs: { X: '2' } }, 1],
    ['another path: a parse', { path: '/elsewhere/Dockerfile' }, 1],
  ])('parseDockerfile memo: %s', async (name, change, want) => {
    const { input } = fixture(`memo ${name}`);
    await parseDockerfile(input);
    expect(await parsesDuring(() => parseDockerfile({ ...input, ...change }))).toBe(want);
  });

  test('an unknown --target is not kept: asking again parses again', async () => {
    const { input } = fixture('bad target');
    await expect(parseDockerfile({ ...input, target: 'nope' })).rejects.toThrow(/names no stage/);
    expect(await parsesDuring(() => parseDockerfile({ ...input, target: 'nope' }).catch(() => undefined))).toBe(1);
  });
});

describe("one run's scans (cachedMounts' memo: bake targets sharing a Dockerfile)", () => {
  test('the same input with the same memo reads the disk cache once; another target is read again', async () => {
    const { input } = fixture('memo-run');
    const env = { XDG_CACHE_HOME: tmp() };
    await cachedMounts(input, env); // on disk
    const memo = new Map();
    const first = await cachedMounts({ ...input }, env, memo);
    rmSync(join(env.XDG_CACHE_HOME, 'secbuild'), { recursive: true, force: true });
    expect(await parsesDuring(async () => expect(await cachedMounts({ ...input }, env, memo)).toBe(first))).toBe(0);
    expect(await parsesDuring(() => cachedMounts({ ...input, target: 'deps' }, env, memo))).toBe(1);
  });
});
