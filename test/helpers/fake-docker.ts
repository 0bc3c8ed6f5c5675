/**
 * A `docker` stand-in for tests that need no daemon. It answers the version
 * probes secbuild's engine detection makes (a 20.10 client without buildx,
 * so builds use DOCKER_BUILDKIT=1; Compose v2.29.1 unless told otherwise; no
 * daemon, unless FAKE_SERVER_VERSION gives its version; a socket that accepts
 * connections stands at its DOCKER_HOST) and,
 * for `build` and `compose`, records argv, environment and a copy of every
 * file it is pointed at, at the moment it runs. It builds nothing.
 *
 * So a test that uses it may only check argv and files (and secbuild's own
 * output and decisions), and its name says "(argv and files only)". Masking
 * of docker's output, docker's exit codes and signals belong to the e2e tier.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Sandbox } from './cli.js';
import { afterAll } from 'vitest';
import { context, envFor, listDir, sandbox } from './cli.js';

const SCRIPT = `#!/bin/sh
# secbuild's docker stand-in (test/helpers/fake-docker.ts): answers the version
# probes, records argv, environment and files; builds nothing.
rec=\${FAKE_RECORD:?FAKE_RECORD is not set}
# Its records stay writable whatever umask secbuild runs under (0277 leaves a
# new directory 0500: only root could still write in it).
umask 077
mkdir -p "$rec/files"
printf '%s\\n' "$*" >> "$rec/calls"
printf '%s\\t%s\\t%s\\n' "$1" "\${DOCKER_CONTEXT-(unset)}" "\${DOCKER_HOST-(unset)}" >> "$rec/daemons"
case $1 in
  version)
    case "$*" in *Server*) [ -n "$FAKE_SERVER_VERSION" ] && { echo "$FAKE_SERVER_VERSION"; exit 0; }; echo "Cannot connect to the Docker daemon: this is secbuild's fake docker" >&2; exit 1 ;; esac
    echo "\${FAKE_CLIENT_VERSION:-20.10.24}"; exit 0 ;;
  buildx)
    [ -n "$FAKE_BUILDX_INSPECT" ] || { echo "docker: 'buildx' is not a docker command." >&2; exit 1; }
    case $2 in version) echo "github.com/docker/buildx 0.13.1 0.13.1"; exit 0 ;; inspect) printf '%s\\n' "$FAKE_BUILDX_INSPECT"; exit 0 ;; esac
    [ "$2" = bake ] || exit 1
    case " $* " in *" --print "*) printf '%s\\n' "$FAKE_BAKE_PRINT"; exit 0 ;; esac ;;
  compose)
    if [ "$2" = version ]; then
      v=\${FAKE_COMPOSE_VERSION:-2.29.1}
      [ "$v" = none ] && { echo "docker: 'compose' is not a docker command." >&2; exit 1; }
      echo "Docker Compose version v$v"; exit 0
    fi ;;
  build) [ "$2" = --help ] && { echo "Usage:  docker \${FAKE_BUILDX_INSPECT:+buildx }build [OPTIONS] PATH | URL | -"; exit 0; } ;;
  *) echo "fake docker: '$1' is not faked" >&2; exit 1 ;;
esac
printf '%s\\n' "$@" > "$rec/argv"
env > "$rec/env"
if [ "$1" = compose ]; then
  prev=; override=
  for a in "$@"; do [ "$prev" = -f ] && override=$a; prev=$a; done
  cp "$override" "$rec/override"
  ls -l "$override" > "$rec/override.ls"
  grep -o '"file": "[^"]*"' "$override" | sed 's/^"file": "//; s/"$//' | while read -r p; do cp "$p" "$rec/files/$(basename "$p")"; done
else
  for a in "$@"; do
    case $a in id=*,src=*|*.secrets=id=*,src=*) p=\${a#*,src=}; cp "$p" "$rec/files/$(basename "$p")"; ls -l "$p" > "$rec/files/$(basename "$p").ls" ;; esac
  done
fi
case $FAKE_MODE in
  fail) exit 17 ;;
  print) for f in "$rec"/files/*; do case $f in *.ls) ;; *) echo "$1 saw $(cat "$f")" ;; esac; done ;;
  sleep) trap 'kill $! 2>/dev/null; echo INT > "$rec/signal"; exit 130' INT; trap 'kill $! 2>/dev/null; exit 143' TERM; sleep "$FAKE_SLEEP" & wait $! ;;
esac
exit 0
`;

/** What one CLI run did to the stand-in. */
export interface Recording {
  /** The record directory: argv, env, override, override.ls, files/, calls, signal. */
  rec: string;
  /** The run's environment: SECBUILD_DOCKER is the stand-in, which is also first on PATH. */
  env: NodeJS.ProcessEnv;
  read(file: string): string;
  /** Every invocation, probes included, one line of space-joined argv each. */
  calls(): string[];
  /** The invocations that were not version probes (a build or `compose build`). */
  runs(): string[];
  /** Per invocation: its first word, DOCKER_CONTEXT and DOCKER_HOST ("(unset)" when absent), tab-separated. */
  daemons(): string[];
}

export interface FakeDocker {
  path: string;
  /**
   * A fresh record for one CLI run; `extra` may set FAKE_MODE (fail|print|sleep), FAKE_SLEEP, FAKE_CLIENT_VERSION, FAKE_SERVER_VERSION,
   * FAKE_COMPOSE_VERSION (or "none"), FAKE_BUILDX_INSPECT (then `docker build` is buildx and `buildx inspect` prints it),
   * FAKE_BAKE_PRINT (what `buildx bake … --print` prints: a bake definition as JSON; then `buildx bake` is recorded like a build).
   */
  record(extra?: NodeJS.ProcessEnv): Recording;
}

/**
 * Installs the stand-in as `<box.dir>/bin/docker`, and a socket that accepts
 * connections (and closes them) as its DOCKER_HOST: secbuild's daemon check
 * (src/engines/docker/daemon.ts) connects before a build, whether or not the
 * machine has a daemon. A test gives another DOCKER_HOST in `record(extra)`.
 */
export function fakeDocker(box: Sandbox): FakeDocker {
  const bin = join(box.dir, 'bin');
  const path = join(bin, 'docker');
  mkdirSync(bin, { recursive: true });
  const socket = join(box.dir, 'daemon.sock');
  createServer((c) => c.destroy()).listen(socket).unref(); // bound when listen() returns
  chmodSync(socket, 0o666); // a test may run secbuild as another user
  writeFileSync(path, SCRIPT);
  chmodSync(path, 0o755);
  let n = 0;
  return {
    path,
    record(extra = {}) {
      const rec = join(box.dir, `rec-${n++}`);
      const env = envFor(box, path, { FAKE_RECORD: rec, PATH: `${bin}:${process.env.PATH}`, DOCKER_HOST: `unix://${socket}`, ...extra });
      const calls = () => (listDir(rec).includes('calls') ? readFileSync(join(rec, 'calls'), 'utf8').trimEnd().split('\n') : []);
      return {
        rec,
        env,
        read: (file) => readFileSync(join(rec, file), 'utf8'),
        calls,
        daemons: () => (listDir(rec).includes('daemons') ? readFileSync(join(rec, 'daemons'), 'utf8').trimEnd().split('\n') : []),
        runs: () => calls().filter((c) => !/^(version|buildx (version|inspect)|buildx bake .*--print|compose version|build --help)( |$)/.test(c)),
      };
    },
  };
}

/**
 * A suite's sandbox with the stand-in installed in it and a build context of
 * `dockerfile` (and `files`); both are removed after the suite (afterAll).
 */
export function fakeDockerSuite(dockerfile: string, files?: Record<string, string | Buffer>): { box: Sandbox; fake: FakeDocker; ctx: { dir: string; cleanup: () => void } } {
  const box = sandbox();
  const fake = fakeDocker(box);
  const ctx = context(dockerfile, files);
  afterAll(() => {
    ctx.cleanup();
    box.cleanup();
  });
  return { box, fake, ctx };
}
