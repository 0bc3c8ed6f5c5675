/**
 * Secbuild's own lines on stderr. Nothing here ever receives a secret value:
 * callers pass ids, references and paths. On GitHub Actions the lines are
 * grouped (`::group::secbuild` … `::endgroup::`, on stdout where the runner
 * reads workflow commands) until docker starts.
 */
// Once per process, not per bundle (each cold bundle has its own copy of this module).
const GROUP = Symbol.for('secbuild.log.group');
const state: { open: boolean } = ((globalThis as { [GROUP]?: { open: boolean } })[GROUP] ??= { open: false });

/** Opens a GitHub Actions log group for secbuild's own lines. */
export function openGroup(): void {
  if (state.open) return;
  process.stdout.write('::group::secbuild\n');
  state.open = true;
}

/** Closes the group before docker's own output. */
export function endGroup(): void {
  if (state.open) process.stdout.write('::endgroup::\n');
  state.open = false;
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
