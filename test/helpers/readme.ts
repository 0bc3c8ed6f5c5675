/**
 * Commands as README.md prints them, for the tests that run them
 * (test/e2e/readme.test.ts, test/cli/demo.test.ts): so a test fails when the
 * README drifts from what works.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** The text of the `## ` section whose heading starts with `heading`. */
function section(heading: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.split('\n## ').find((s) => s.startsWith(heading));
  return start?.split('\n## ')[0] ?? '';
}

/** The `$ ` lines of the section's ```console blocks (only the first block with `first`), without the `$ `. */
export function readmeCommands(heading: string, opts: { first?: boolean } = {}): string[] {
  const blocks = [...section(heading).matchAll(/```console\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return (opts.first ? blocks.slice(0, 1) : blocks).flatMap((b) => b.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2)));
}

/**
 * The commands of "Try it", which run in place, in the checkout the tests run
 * from: an install there (`npm ci` empties a node_modules that is a symlink
 * to a shared one) is refused before anything runs.
 */
export function tryItCommands(opts: { first?: boolean } = {}): string[] {
  const commands = readmeCommands('Try it', opts);
  const install = commands.find((c) => /\bnpm (ci|install|i)\b/.test(c));
  if (install !== undefined) throw new Error(`README "Try it" has an install command, which these tests do not run in place: ${install}`);
  if (commands.length === 0) throw new Error('README has no "Try it" section with a console block');
  return commands;
}

/**
 * The first ```yaml block under the README's `### ${heading}` heading (up to
 * the next heading of level 1 to 3 outside a code block: a YAML comment is a
 * `# ` line too), byte for byte with its final newline, or undefined when
 * there is no such heading or block: for the tests that hold a README recipe
 * equal to the file it shows (test/cli/ci-examples.test.ts).
 */
export function readmeYamlBlock(heading: string): string | undefined {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const at = lines.indexOf(`### ${heading}`);
  if (at === -1) return undefined;
  let fence = false;
  let block: string[] | undefined;
  for (const line of lines.slice(at + 1)) {
    if (fence) {
      if (line === '```') {
        if (block) return block.map((l) => `${l}\n`).join('');
        fence = false;
      } else block?.push(line);
    } else if (line.startsWith('```')) {
      fence = true;
      if (/^```ya?ml$/.test(line)) block = [];
    } else if (/^#{1,3} /.test(line)) return undefined;
  }
  return undefined;
}
