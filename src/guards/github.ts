/**
 * CI integration. On GitHub Actions (GITHUB_ACTIONS=true) every value is
 * registered with the runner's `::add-mask::` workflow command before docker
 * prints anything, so this step's and later steps' logs are masked by the
 * runner too; secbuild's own lines are grouped in `::group::secbuild`. The
 * add-mask lines are the one place a value is written out: the runner
 * consumes them and never shows them (as @actions/core setSecret does).
 * Other CI systems need nothing special: their logs are not a TTY, so
 * masking is on anyway.
 */
import type { Pattern } from '../secrets/forms.js';

export function onGitHubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/** `::add-mask::` lines for each pattern that is one line of text. */
export function addMaskCommands(patterns: readonly Pattern[]): string {
  const lines: string[] = [];
  for (const p of patterns) {
    const text = p.bytes.toString('utf8');
    if (text.includes('\n') || text.includes('\r') || text.includes('\uFFFD')) continue;
    lines.push(`::add-mask::${text}\n`);
  }
  return lines.join('');
}
