/**
 * CI integration. On GitHub Actions (GITHUB_ACTIONS=true) every masked form
 * (src/secrets/forms.ts) is registered with the runner's `::add-mask::`
 * workflow command before docker prints anything, so this step's and later
 * steps' logs are masked by the runner too; secbuild's own lines are grouped
 * in `::group::secbuild`. The add-mask lines are the one place a value is
 * written out: the runner consumes them and never shows them (as
 * @actions/core setSecret does). They are written to stderr, never to stdout,
 * which may carry data (src/util/log.ts `workflowCommands`: the runner parses
 * a step's stderr for workflow commands too). Other CI systems need nothing special:
 * their logs are not a TTY, so masking is on anyway.
 */
import type { Pattern } from '../secrets/forms.js';

export function onGitHubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === 'true';
}

/**
 * Command data escaped as the runner unescapes it (actions/runner
 * src/Runner.Common/ActionCommand.cs: `%` → %25, CR → %0D, LF → %0A), as
 * @actions/core's `escapeData` does.
 */
export function escapeCommandData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** `::add-mask::` lines for each pattern that is UTF-8 text (the runner masks text). */
export function addMaskCommands(patterns: readonly Pattern[]): string {
  const lines: string[] = [];
  for (const p of patterns) {
    const text = p.bytes.toString('utf8');
    if (text.includes('\uFFFD')) continue;
    lines.push(`::add-mask::${escapeCommandData(text)}\n`);
  }
  return lines.join('');
}
