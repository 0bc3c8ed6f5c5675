/**
 * In CI a terminal is a log (README "What is masked"): on a CI job's
 * pseudo-terminal (util-linux script(1), CI=true) nothing a child prints
 * reaches it unmasked — neither a `cmd:` provider's stderr (which on a
 * person's terminal is shown, for a prompt) nor what exec's command writes to
 * /dev/tty or to its stdin. Real commands, no docker.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { CLI, listDir, nonce, noDockerEnv, pidsMatching, sandbox, sh, waitFor } from '../helpers/cli.js';

const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;

describe('CI on a pseudo-terminal: the terminal is a log', () => {
  const box = sandbox();
  afterAll(() => box.cleanup());
  const value = `tty-${nonce()}-value`;
  const file = join(box.dir, 'value');
  writeFileSync(file, value);

  /** secbuild ARGS on a pseudo-terminal (stdin, stdout and stderr), as a CI job with a pty runs it: everything the terminal showed. */
  async function onTerminal(args: string[], ci: string): Promise<{ code: number; shown: string }> {
    const r = await sh('script', ['-qec', [process.execPath, CLI, ...args].map(quote).join(' '), '/dev/null'], { env: noDockerEnv(box, { CI: ci }) });
    return { code: r.code, shown: r.stdout.toString() + r.stderr };
  }

  test("a cmd: provider's stderr is not shown; another secret's value in it neither", async () => {
    const args = ['exec', '--secret', `id=a,from=file:${file}`, '--secret', `id=b,"from=cmd:sh -c 'echo provider-says >&2; cat ${file} >&2; cat ${file} > /dev/tty; printf b-value-1234'"`, '--', 'true'];
    const ci = await onTerminal(args, 'true');
    expect(ci.code, ci.shown).toBe(0);
    expect(ci.shown).not.toContain(value);
    expect(ci.shown).not.toContain('provider-says');
    // On a person's terminal the provider's stderr (a prompt) is shown, as it was.
    const person = await onTerminal(args, 'false');
    expect(person.shown).toContain(value);
  });

  test.each([
    ['/dev/tty', `cat "$SECBUILD_SECRETS/a" > /dev/tty`],
    ['its stdin (the terminal, open for writing)', `cat "$SECBUILD_SECRETS/a" >&0`],
  ])("what exec's command writes to %s does not reach the terminal unmasked", async (_where, script) => {
    const ci = await onTerminal(['exec', '--secret', `id=a,from=file:${file}`, '--', 'sh', '-c', `${script}; echo done`], 'true');
    expect(ci.shown).toContain('done');
    expect(ci.shown).not.toContain(value);
  });

  test("exec's command's stdout and stderr still reach the terminal, masked", async () => {
    const ci = await onTerminal(['exec', '--secret', `id=a,from=file:${file}`, '--', 'sh', '-c', 'cat "$SECBUILD_SECRETS/a"; echo; cat "$SECBUILD_SECRETS/a" >&2'], 'true');
    expect(ci.code, ci.shown).toBe(0);
    expect(ci.shown).not.toContain(value);
    expect(ci.shown.match(/\*\*\*/g)?.length).toBe(2);
  });

  test("SIGTERM to secbuild reaches the command's process group (it has no terminal to get it from)", async () => {
    const m = `${Math.floor(Math.random() * 90000) + 10000}`;
    const line = [process.execPath, CLI, 'exec', '--secret', `id=a,from=file:${file}`, '--', 'sh', '-c', `sleep 3${m} & sleep 4${m}; wait`].map(quote).join(' ');
    const tty = spawn('script', ['-qec', line, '/dev/null'], { env: noDockerEnv(box, { CI: 'true' }), stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      const sleeps = () => [...pidsMatching(`sleep 3${m}`), ...pidsMatching(`sleep 4${m}`)].filter((p) => readCmd(p).startsWith('sleep '));
      await waitFor('both sleeps', () => sleeps().length === 2, 20_000);
      const secbuild = pidsMatching(`sleep 3${m}`).filter((p) => readCmd(p).startsWith(`${process.execPath} ${CLI} exec`));
      expect(secbuild.length).toBe(1);
      process.kill(secbuild[0]!, 'SIGTERM');
      await waitFor('the command and its background child to end', () => sleeps().length === 0, 15_000);
      await waitFor('the run directory to go', () => listDir(box.tmp).length === 0, 10_000);
    } finally {
      tty.kill('SIGKILL');
      for (const p of [...pidsMatching(`sleep 3${m}`), ...pidsMatching(`sleep 4${m}`)].filter((p) => readCmd(p).startsWith('sleep '))) process.kill(p, 'SIGKILL');
    }
  });
});

function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}
