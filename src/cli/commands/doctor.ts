/**
 * `secbuild doctor`: one line per check, each saying what was found and what
 * to do. Exit 0 only when a build can run (docker found, BuildKit usable,
 * daemon reachable — or, when docker cannot or podman is asked for, podman
 * local and able to build with secrets — and a usable secret root).
 */
import { randomBytes } from 'node:crypto';
import { storeReadiness, type Ref } from '../../../providers/index.js';
import { keychainBackend, keychainDelete, keychainGet, keychainSet, resetKeychainBackend } from '../../../providers/keychain.js';
import { legacyCompose, probeCompose, supportsOverrideTag } from '../../engines/compose/detect.js';
import { describeBuildKit, findDocker, NoBuildKitError, probeEngine, withAlternatives } from '../../engines/docker/detect.js';
import { askedEngine } from '../../engines/select.js';
import { capture } from '../../run/exec.js';
import { scrubEnv, withVars, type ChildEnv } from '../../run/env.js';
import { chooseRoot } from '../../run/rundir.js';
import { planSpecs } from '../../secrets/plan.js';
import { specRefs } from '../../secrets/resolve.js';
import { NotReadyError } from '../../util/errors.js';
import { podmanLines } from './doctor-podman.js';

/**
 * The probes' environment, without the variables ./secbuild.yml reads secrets
 * from, and the references it makes (which stores the user set up). The file
 * is read by the config loader (bounded); one that cannot be read or parsed
 * counts as none here.
 */
async function probeEnv(env: NodeJS.ProcessEnv): Promise<{ childEnv: ChildEnv; refs: Ref[] }> {
  try {
    const plan = await planSpecs({ secrets: [], netrc: [], npmrc: [] }, env, process.cwd());
    return { childEnv: plan.childEnv, refs: plan.specs.flatMap(specRefs) };
  } catch {
    return { childEnv: scrubEnv(env, new Set()), refs: [] };
  }
}

/** `info`: a store nobody set up, printed as `--` with what its references would need. */
type Status = 'ok' | 'warn' | 'fail' | 'info';

const within = <T>(p: Promise<T>, ms = 10_000): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s (a locked keyring waiting for a prompt?)`)), ms).unref())]);

/**
 * Stores, reads back and deletes a probe item through the backend a build
 * would use: "keytar loaded" says nothing about a Secret Service answering.
 * macOS's `security` cannot store without its own prompt, so it is only found.
 */
async function roundTrip(env: ChildEnv): Promise<{ backend: string; problem?: string }> {
  const backend = await keychainBackend(env);
  if (backend.kind === 'none') return { backend: 'none', problem: backend.why };
  const name = backend.kind === 'keytar' ? 'keytar' : backend.tool;
  if (name === 'security') return { backend: name };
  const item = { service: 'secbuild-doctor-probe', account: `probe-${process.pid}-${randomBytes(4).toString('hex')}` };
  const value = Buffer.from(randomBytes(12).toString('hex'));
  try {
    await within(keychainSet(item, value, env));
    const back = await within(keychainGet(item, env));
    return back?.equals(value) ? { backend: name } : { backend: name, problem: 'the probe item read back is not what was stored' };
  } catch (err) {
    return { backend: name, problem: (err as Error).message.split('\n')[0] };
  } finally {
    await within(keychainDelete(item, env)).catch(() => undefined);
  }
}

/**
 * One line per secret store that can say whether it is ready (providers'
 * readiness; no value is read). A store that is not ready is a warning only
 * when the user set it up (its variables or files, or a secbuild.yml
 * reference); otherwise an informational line says what it would need.
 */
async function storeLines(env: NodeJS.ProcessEnv, childEnv: ChildEnv, refs: readonly Ref[]): Promise<void> {
  for (const r of await storeReadiness(refs, { env, childEnv }, true)) {
    if (r.ok) line('ok', r.store, r.text);
    else if (r.used) line('warn', r.store, r.text);
    else line('info', r.store, `not set up (${r.text})`);
  }
}

async function keychainLine(env: ChildEnv): Promise<void> {
  const first = await roundTrip(env);
  if (!first.problem) return line('ok', 'keychain', `${first.backend}: stored, read back and deleted a probe item`);
  let other: Awaited<ReturnType<typeof roundTrip>> | undefined;
  if (first.backend === 'keytar' && !env.SECBUILD_KEYCHAIN_BACKEND) {
    resetKeychainBackend();
    other = await roundTrip(withVars(env, { SECBUILD_KEYCHAIN_BACKEND: 'cli' }));
    resetKeychainBackend();
  }
  const what = first.backend === 'none' ? first.problem : `${first.backend} cannot use the keychain (${first.problem})`;
  const fix = other && !other.problem
    ? `; ${other.backend} works: set SECBUILD_KEYCHAIN_BACKEND=cli, else keychain: references will fail`
    : `${other ? `; ${other.backend} fails too (${other.problem})` : ''}; keychain: references will fail until a Secret Service answers (a D-Bus session with an unlocked keyring: dbus-run-session, gnome-keyring-daemon --unlock, as .ci/run does)`;
  line('warn', 'keychain', `${what}${fix}`);
}

function line(status: Status, what: string, detail: string): void {
  const mark = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', info: '--  ' }[status];
  process.stdout.write(`${mark}  ${what}: ${detail}\n`);
}

export async function doctorCommand(opts: { docker?: string; podman?: string; engine?: string; tmpdir?: string }): Promise<void> {
  const env = process.env;
  const { childEnv, refs } = await probeEnv(env);
  const asked = askedEngine({ builder: opts.engine, podman: opts.podman }, env);
  let canBuild = true;
  let dockerOk = true;
  let docker: string | undefined;
  try {
    docker = findDocker(opts.docker, env);
  } catch (err) {
    line('fail', 'docker CLI', (err as Error).message);
    dockerOk = false;
  }
  if (docker) {
    const v = await capture(docker, ['version', '--format', '{{.Client.Version}}'], { env: childEnv, timeoutMs: 15_000 });
    const client = v.stdout.toString().trim().split('\n')[0] || 'unknown version';
    line('ok', 'docker CLI', `${docker} (client ${client})`);
    try {
      const engine = await probeEngine(docker, childEnv);
      line('ok', 'BuildKit', describeBuildKit(engine));
    } catch (err) {
      // The same advice a build gives: the other docker CLI here that can (src/engines/docker/discover.ts).
      const e = err instanceof NoBuildKitError ? await withAlternatives(err, docker, childEnv) : err;
      line('fail', 'BuildKit', (e as Error).message);
      dockerOk = false;
    }
    const server = await capture(docker, ['version', '--format', '{{.Server.Version}}'], { env: childEnv, timeoutMs: 15_000 });
    if (server.exitCode === 0) line('ok', 'daemon', `reachable, engine ${server.stdout.toString().trim()}`);
    else {
      const why = server.stderr.trim().split('\n').pop() ?? '';
      line('fail', 'daemon', `not reachable${why ? ` (${why})` : ''}; start dockerd or set DOCKER_HOST`);
      dockerOk = false;
    }
    // Which engine `secbuild compose build` would use, and why (src/engines/compose/detect.ts decides the same way).
    const [compose, legacy] = await Promise.all([probeCompose(docker, childEnv), legacyCompose(childEnv)]);
    const v1 = legacy ? `; docker-compose 1.x at ${legacy} is never used (it has no build secrets)` : '';
    if (compose.version) {
      const old = supportsOverrideTag(compose.version) ? '' : '; it is older than 2.24.4 (no !override tag), so a project whose compose secrets must be replaced (environment:, external:) or whose build.secrets must be rewritten needs --engine direct';
      line('ok', 'compose engine', `compose: Compose v${compose.version} answers \`docker compose\`, so secbuild compose build runs it with a one-off override file${old}${v1}`);
    } else {
      line('ok', 'compose engine', `direct: ${compose.problem}; secbuild compose build reads the compose files itself and runs one docker build per service${v1}`);
    }
  }
  // Podman is reported too. The engine a build would use must work: the one asked for, else docker when
  // a docker CLI is found, else podman (src/engines/select.ts chooses the same way).
  const podmanOk = await podmanLines({ podman: opts.podman, wanted: asked === 'podman' }, env, childEnv, line);
  const used = asked ?? (docker || opts.docker || env.SECBUILD_DOCKER ? 'docker' : 'podman');
  if (!(used === 'podman' ? podmanOk : dockerOk)) canBuild = false;
  try {
    const root = chooseRoot({ tmpdir: opts.tmpdir, env, requireTmpfs: false });
    line(root.memoryBacked ? 'ok' : 'warn', 'secret root', `${root.root} from ${root.why}${root.memoryBacked ? '' : '; secret files would not be memory-backed: set --tmpdir/SECBUILD_TMPDIR to a tmpfs'}`);
  } catch (err) {
    line('fail', 'secret root', (err as Error).message);
    canBuild = false;
  }
  await keychainLine(childEnv);
  await storeLines(env, childEnv, refs);
  process.stdout.write(canBuild ? 'a build can run here.\n' : 'a build cannot run here: fix the FAIL lines above.\n');
  if (!canBuild) throw new NotReadyError('a build cannot run here.', { reported: true });
}
