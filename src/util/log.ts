/**
 * Secbuild's own lines on stderr. Nothing here ever receives a secret value:
 * callers pass ids, references and paths. On GitHub Actions the lines are
 * grouped (`::group::secbuild` … `::endgroup::`, on stdout where the runner
 * reads workflow commands) until docker starts.
 */
let group: 'off' | 'open' = 'off';

/** Opens a GitHub Actions log group for secbuild's own lines. */
export function openGroup(): void {
  if (group === 'open') return;
  process.stdout.write('::group::secbuild\n');
  group = 'open';
}

/** Closes the group before docker's own output. */
export function endGroup(): void {
  if (group === 'open') process.stdout.write('::endgroup::\n');
  group = 'off';
}

function line(text: string): void {
  process.stderr.write(text);
}

export function info(text: string): void {
  line(`secbuild: ${text}\n`);
}

export function warn(text: string): void {
  line(`secbuild: warning: ${text}\n`);
}

export function debug(text: string): void {
  if (process.env.SECBUILD_DEBUG === '1') line(`secbuild: debug: ${text}\n`);
}
