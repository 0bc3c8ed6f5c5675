/**
 * Secbuild's own lines on stderr. Callers pass ids, references and paths, but
 * a line can still carry foreign text (a provider's stderr, docker's words),
 * so every line — and every error, report and --dry-run text, through
 * `masked()` — passes the output filter: once secrets are resolved, the
 * pipeline installs the redactor of their forms (`setOutputFilter`). On
 * GitHub Actions the lines are grouped (`::group::secbuild` … `::endgroup::`)
 * until docker starts.
 *
 * Nothing here writes to stdout: stdout may be data (the build's result with
 * `-o -`, exec's command's output), and none of secbuild's lines may land in
 * it. Workflow commands included (`workflowCommands()`): the runner reads a
 * step's stderr for them as it reads its stdout — actions/runner
 * src/Runner.Worker/Handlers/ScriptHandler.cs hands StepHost.ErrorDataReceived
 * to an OutputManager as it does OutputDataReceived, and
 * OutputManager.OnDataReceived passes every line to
 * ActionCommandManager.TryProcessCommand (node actions likewise).
 */
import { withoutControlsKeepingLines } from './shown.js';

type Filter = (text: string) => string;
interface LogState {
  open: boolean;
  filter: Filter | undefined;
}
// Once per process, not per bundle (each cold bundle has its own copy of this module).
const STATE = Symbol.for('secbuild.log.state');
const state: LogState = ((globalThis as { [STATE]?: LogState })[STATE] ??= { open: false, filter: undefined });

/** Installs the redactor every line of secbuild's own output passes from now on. */
export function setOutputFilter(filter: Filter): void {
  state.filter = filter;
}

/**
 * `text` with every known secret form replaced by `***` (as it is, before any
 * secret resolved), and every control character but line breaks and tabs made
 * a space: foreign words in it (a bake file's paths, a server's answer, a
 * tool's stderr) cannot move the cursor, recolour or retitle the terminal.
 */
export function masked(text: string): string {
  return withoutControlsKeepingLines(state.filter ? state.filter(text) : text);
}

/**
 * The one writer of GitHub Actions workflow commands: to stderr, always (see
 * the header), never through the output filter (an `::add-mask::` line must
 * hold the value it registers; the runner consumes it and shows nothing).
 */
export function workflowCommands(text: string): void {
  process.stderr.write(text);
}

/** Opens a GitHub Actions log group for secbuild's own lines. */
export function openGroup(): void {
  if (state.open) return;
  workflowCommands('::group::secbuild\n');
  state.open = true;
}

/** Closes the group before docker's own output. */
export function endGroup(): void {
  if (state.open) workflowCommands('::endgroup::\n');
  state.open = false;
}

function line(text: string): void {
  process.stderr.write(masked(text));
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

/**
 * With SECBUILD_DEBUG=1, an error's stack and its causes' stacks, masked;
 * never the error's other properties (console.error printed them all: a
 * failed `cmd:` provider's error holds the command's stdout, the value as
 * `<Buffer …>` bytes no masking recognises).
 */
export function debugError(err: unknown): void {
  let e: unknown = err;
  for (let depth = 0; depth < 4 && e !== undefined && e !== null; depth++) {
    const text = e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : `(a thrown ${typeof e}, not shown)`;
    debug(`${depth > 0 ? 'caused by: ' : ''}${text}`);
    e = e instanceof Error ? e.cause : undefined;
  }
}

/**
 * A status line for long work: on a terminal it is redrawn in place (`\r`,
 * cleared with `progress(undefined)`); elsewhere the caller prints it as an
 * ordinary `info` line every few seconds.
 */
export function progress(text: string | undefined): void {
  if (!process.stderr.isTTY) return;
  process.stderr.write(text === undefined ? '\r\x1b[2K' : `\r\x1b[2K${masked(`secbuild: ${text}`)}`);
}
