/**
 * One help style for every command (issue 11 item 8): a usage line, an
 * options table, examples and exit codes, in that order, on stdout, exit 0.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { noDockerEnv, runCli, sandbox } from '../helpers/cli.js';

describe('--help', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());

  test.each(['build', 'compose', 'exec', 'check', 'verify', 'secrets', 'secret set', 'secret rm', 'doctor', 'clean'])('secbuild %s --help', async (command) => {
    const r = await runCli([...command.split(' '), '--help'], { env: noDockerEnv(box) });
    expect(r.code, r.stderr).toBe(0);
    const at = (re: RegExp) => r.stdout.search(re);
    expect(at(new RegExp(`^Usage: secbuild \\[?${command}\\b`, "m"))).toBe(0);
    const sections = [/^Options:$/m, /^Examples:$/m, /^Exit codes:$/m].map(at);
    expect(sections.every((i) => i > 0), r.stdout).toBe(true);
    expect([...sections].sort((a, b) => a - b)).toEqual(sections);
    expect(r.stdout).toMatch(/^Examples:\n {2}secbuild /m);
    expect(r.stdout).toMatch(/^Exit codes:\n {2}0 /m);
  });
});
