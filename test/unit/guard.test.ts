import { describe, expect, test } from 'vitest';
import { LeakError } from '../../src/util/errors.js';
import { carriedSecret, guardBuildArgs, parseBuildArgFlags, parseLabelFlags, wantsProvenanceMax } from '../../src/guards/build-args.js';
import { Secret } from '../../src/secrets/secret.js';

const tok = new Secret('tok', 'env:TOKEN', Buffer.from('s3cr3t-value/+x'));
const short = new Secret('pin', 'env:PIN', Buffer.from('123'));

describe('carriedSecret', () => {
  test.each([
    ['s3cr3t-value/+x', 'tok'],
    ['Bearer s3cr3t-value/+x', 'tok'],
    [Buffer.from('s3cr3t-value/+x').toString('base64'), 'tok'],
    [`auth=${encodeURIComponent('s3cr3t-value/+x')}`, 'tok'],
    ['123', 'pin'], // equal: any length
    ['x1234', undefined], // contains a short value: not counted
    ['s3cr3t-valu', undefined],
    ['', undefined],
  ])('%j carries %s', (value, id) => {
    expect(carriedSecret(value, [tok, short])?.id).toBe(id);
  });
});

describe('guardBuildArgs', () => {
  const env = { FROM_ENV: 'pre s3cr3t-value/+x post', PLAIN: 'hello' };

  test('refuses every carrying build-arg in one LeakError naming args and ids, never values', () => {
    const args = parseBuildArgFlags(['A=s3cr3t-value/+x', 'FROM_ENV', 'PLAIN', 'B=ok'], env);
    let err: unknown;
    try {
      guardBuildArgs(args, [tok], new Set(), false);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LeakError);
    const msg = (err as LeakError).message;
    expect((err as LeakError).exitCode).toBe(4);
    expect(msg).toMatch(/--build-arg A carries secret "tok" \(env:TOKEN\)/);
    expect(msg).toMatch(/--build-arg FROM_ENV carries secret "tok"/);
    expect(msg).not.toMatch(/PLAIN|B carries/);
    expect(msg).not.toContain('s3cr3t');
  });

  test('--allow-secret-build-arg lets one through with a warning and reports env-sourced names', () => {
    const args = parseBuildArgFlags(['FROM_ENV'], env);
    const r = guardBuildArgs(args, [tok], new Set(['FROM_ENV']), false);
    expect(r.warnings).toEqual([expect.stringMatching(/FROM_ENV carries secret "tok" and is let through/)]);
    expect(r.allowedEnvNames).toEqual(['FROM_ENV']);
  });

  test.each([
    ['GITHUB_TOKEN', true],
    ['NPM_AUTH_TOKEN', true],
    ['DB_PASSWORD', true],
    ['PUBLIC_KEY', false],
    ['VERSION', false],
    ['APIKEY', true],
  ])('a build-arg named %s warns: %s', (name, warns) => {
    const r = guardBuildArgs(parseBuildArgFlags([`${name}=unknown`], {}), [tok], new Set(), false);
    expect(r.warnings.length > 0).toBe(warns);
  });

  test('provenance mode=max refuses a secret build-arg even when --allow-secret-build-arg lets it through (exit 4)', () => {
    const args = parseBuildArgFlags(['A=s3cr3t-value/+x'], env);
    expect(() => guardBuildArgs(args, [tok], new Set(['A']), true)).toThrow(LeakError);
    expect(() => guardBuildArgs(args, [tok], new Set(['A']), true)).toThrow(/--build-arg A carries secret "tok", and provenance mode=max would copy its value into the attestation/);
    // mode=min: the warning of --allow-secret-build-arg only
    expect(guardBuildArgs(args, [tok], new Set(['A']), false).warnings).toEqual([expect.stringMatching(/let through/)]);
  });

  test('provenance mode=max adds a warning per credential-like name', () => {
    const r = guardBuildArgs(parseBuildArgFlags(['GITHUB_TOKEN=x', 'NODE_ENV=production'], {}), [tok], new Set(), true);
    expect(r.warnings.filter((w) => w.includes('provenance'))).toEqual([expect.stringMatching(/including --build-arg GITHUB_TOKEN/)]);
  });
});

describe('parseLabelFlags', () => {
  test('--label and --annotation, spaced or with =; a positional word (a context named dockerfile-inline) is no flag', () => {
    expect(parseLabelFlags(['dockerfile-inline', '--label', 'k=v', '--annotation=manifest:a=b', '-t', 'x'])).toEqual([
      { flag: '--label', name: 'k', value: 'v', fromEnv: false },
      { flag: '--annotation', name: 'manifest:a', value: 'b', fromEnv: false },
    ]);
  });
});

describe('wantsProvenanceMax', () => {
  test.each([
    [['--provenance', 'mode=max'], true],
    [['--provenance=mode=max'], true],
    [['--provenance=true'], false],
    [['--attest', 'type=provenance,mode=max'], true],
    [['--attest=type=provenance,mode=max'], true],
    [['--attest', 'type=sbom,mode=max'], false],
    // buildx reads these values as CSV (encoding/csv): quotes around a field are not part of it.
    [['--provenance', '"mode=max"'], true],
    [['--attest', '"type=provenance","mode=max"'], true],
    [['--attest', 'type=provenance,"mode=max,x"'], false],
    [['--attest', '"type=sbom",mode=max'], false],
    [['-t', 'x', '.'], false],
  ])('%j → %s', (argv, want) => {
    expect(wantsProvenanceMax(argv)).toBe(want);
  });
});
