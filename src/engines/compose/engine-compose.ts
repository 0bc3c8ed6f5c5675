/**
 * The compose engine: Compose v2 builds, secbuild provides the secrets. A
 * one-off override file, written into the session's run directory (created
 * exclusively, 0600, removed with it), points each used top-level secret at
 * secbuild's file; then `docker compose <the user's files> -f OVERRIDE build …`
 * runs through core's session and masked runner, so signals, the watchdog,
 * cleanup and output masking are the same as for `secbuild build`.
 */
import { constants as osConstants } from 'node:os';
import { buildEnv } from '../docker/detect.js';
import { runMasked } from '../../pipeline/masked-run.js';
import type { Report } from '../../pipeline/report.js';
import { DockerExit } from '../../util/errors.js';
import type { Pattern } from '../../secrets/forms.js';
import { Secret } from '../../secrets/secret.js';
import type { Session } from '../../run/session.js';

/** A run-directory file name for the override that no secret file uses. */
export function overrideId(secretIds: readonly string[]): string {
  let id = 'compose-override';
  while (secretIds.includes(id)) id += '_';
  return id;
}

export async function runCompose(o: {
  docker: string;
  session: Session;
  secretIds: readonly string[];
  overrideText: string;
  argvFor: (overridePath: string) => string[];
  childEnv: NodeJS.ProcessEnv;
  patterns?: readonly Pattern[];
  /** --report: each docker run's argv and exit code, masked counts. */
  report?: Report;
}): Promise<number> {
  // Written like a secret file (O_EXCL, 0600, O_NOFOLLOW): it holds paths only, but lives and dies with them.
  const [override] = o.session.dir.writeAll([new Secret(overrideId(o.secretIds), 'compose override file', Buffer.from(o.overrideText, 'utf8'))]);
  const argv = o.argvFor(override!.path);
  const run = { argv: [o.docker, ...argv], exitCode: undefined as number | undefined };
  o.report?.runs?.push(run);
  if (o.report) o.report.dockerArgv = run.argv;
  const r = await runMasked(o.session, o.docker, argv, buildEnv(o.childEnv), o.patterns, o.report);
  run.exitCode = r.signal ? 128 + (osConstants.signals[r.signal] ?? 0) : (r.code ?? 1);
  if (r.signal) throw new DockerExit(128 + (osConstants.signals[r.signal] ?? 0));
  if (r.code !== 0) throw new DockerExit(r.code ?? 1);
  return 0;
}
