/**
 * The compose engine: Compose v2 builds, secbuild provides the secrets. A
 * one-off override file, written into the run directory (created exclusively,
 * 0600, removed with it), points each used top-level secret at secbuild's
 * file; then `docker compose <the user's files> -f OVERRIDE build …` runs
 * through the pipeline's docker runner, so signals, the watchdog, cleanup and
 * output masking are the same as for `secbuild build`.
 */
import { DockerExit } from '../../util/errors.js';

/** A run-directory file name for the override that no secret file uses. */
export function overrideId(secretIds: readonly string[]): string {
  let id = 'compose-override';
  while (secretIds.includes(id)) id += '_';
  return id;
}

export async function runCompose(o: {
  secretIds: readonly string[];
  overrideText: string;
  argvFor: (overridePath: string) => string[];
  /** Writes a run-directory file; returns its path. */
  write: (id: string, text: string) => string;
  /** Runs docker; resolves to its exit code. */
  docker: (argv: readonly string[]) => Promise<number>;
}): Promise<void> {
  const override = o.write(overrideId(o.secretIds), o.overrideText);
  const code = await o.docker(o.argvFor(override));
  if (code !== 0) throw new DockerExit(code);
}
