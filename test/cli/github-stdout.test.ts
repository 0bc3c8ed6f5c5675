/**
 * One rule for stdout on GitHub Actions: secbuild's workflow commands
 * (`::group::`, `::add-mask::`) go to stderr, which the runner reads for
 * workflow commands as it reads stdout (actions/runner
 * src/Runner.Worker/Handlers/ScriptHandler.cs), so stdout carries only the
 * data: the build's result (`-o -`, docker stand-in: argv and files only)
 * or exec's command's output (a real command).
 */
import { describe, expect, test } from 'vitest';
import { nonce, noDockerEnv, runCli, type RunResult } from '../helpers/cli.js';
import { fakeDockerSuite } from '../helpers/fake-docker.js';

describe('GITHUB_ACTIONS=true: workflow commands on stderr, never in data on stdout', () => {
  const { box, fake, ctx } = fakeDockerSuite('FROM scratch\nRUN --mount=type=secret,id=t true\n');
  const value = `gha-${nonce()}-token`;

  /** The add-mask lines (value and base64 forms) and the group are on stderr, the group closed after the last mask. */
  function expectCommandsOnStderr(r: RunResult): void {
    const err = r.stderr.split('\n');
    expect(err[0]).toBe('::group::secbuild');
    expect(err).toContain(`::add-mask::${value}`);
    expect(err).toContain(`::add-mask::${Buffer.from(value).toString('base64')}`);
    expect(err.indexOf('::endgroup::')).toBeGreaterThan(err.map((l) => l.startsWith('::add-mask::')).lastIndexOf(true));
  }

  test.each([['-o', '-'], ['--output', 'dest=-'], ['--output', 'type=tar,dest=-'], ['--output=type=tar,dest=-']].map((a) => [a.join(' '), a] as const))(
    'build %s: stdout holds only what docker wrote (docker stand-in: argv and files only)',
    async (_name, out) => {
      const { env } = fake.record({ SRC: value, GITHUB_ACTIONS: 'true' });
      const r = await runCli(['--secret', 'id=t,from=env:SRC', ...out, ctx.dir], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('');
      expectCommandsOnStderr(r);
    },
  );

  test('exec: stdout is the command\'s output, byte for byte (> out.json)', async () => {
    const r = await runCli(['exec', '--secret', 'id=t,from=env:SRC', '--', 'sh', '-c', 'printf \'{"ok":true}\''], { env: noDockerEnv(box, { SRC: value, GITHUB_ACTIONS: 'true' }) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('{"ok":true}');
    expectCommandsOnStderr(r);
  });

  test('a usage error before anything resolves still closes the group on stderr', async () => {
    const r = await runCli(['exec', '--secret', 'id=t,from=env:SRC', '--', 'no-such-command-here'], { env: noDockerEnv(box, { SRC: value, GITHUB_ACTIONS: 'true' }) });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe('::group::secbuild');
    expect(r.stderr).toContain('::endgroup::');
  });
});
