/**
 * The watchdog: a tiny `sh` started with the run, in its own session (so a
 * process-group kill of secbuild does not reach it), reading a pipe from
 * secbuild. secbuild writes `pid N` when docker starts and `done` when it has
 * cleaned up itself, `exit N` when a child ends (so a recycled pid is never
 * signalled), and `kept` when it hands the directory to a keeper (the
 * watchdog then leaves the directory alone). If the pipe closes without `done` — secbuild was killed
 * with SIGKILL, by the OOM killer, by a runner's hard cancel — the watchdog
 * stops the orphaned docker client (TERM, then KILL after 2 s) — and every
 * process of the user whose environment carries the run's mark
 * (RUN_MARK_VAR, set by the exec seam on every child started while a watcher
 * runs: a child spawned in the instant before its `pid N` line was written,
 * and the children's own children) —, which ends
 * the build's session so BuildKit cancels the build, runs the engine's
 * cleanup script when the run directory holds one (`reap`: what an
 * interrupted podman build leaves, src/engines/podman/reap.ts; a regular
 * file, not a symlink, and stopped after 10 s — a command under `exec` can
 * write one, and it must not keep the secrets there forever), and removes
 * the run directory with the same removal as secbuild's own (./remove.ts,
 * run by this node as `node -e REMOVE_PROGRAM DIR`: never blocks, follows no
 * symlink, overwrites first, never enters a mount), and `rm -rf
 * --one-file-system` only should node fail to run (rm's walk enters a bind
 * mount a command left there).
 * Cost on the critical path: one fork/exec of /bin/sh, not awaited (node
 * starts only on the SIGKILL path).
 * If the watchdog itself dies first (a process-tree kill, a stray `kill`),
 * `onDeath` is called at once: the session starts another.
 */
import type { ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { minimalEnv } from './env.js';
import { spawnDetached, type Watcher } from './exec.js';
import { RUN_MARK_VAR, runMark } from './mark.js';
import { REMOVE_PROGRAM } from './remove.js';

const SCRIPT = `
dir=$1; node=$2; remove=$3; mark=$4; pids=
while IFS= read -r line; do
  case $line in
    "pid "*) pids="$pids \${line#pid }" ;;
    "exit "*) gone=\${line#exit }; kept=
      for p in $pids; do [ "$p" = "$gone" ] || kept="$kept $p"; done
      pids=$kept ;;
    done) exit 0 ;;
    kept) dir= ;;
  esac
done
# a child's own children too (docker 20.10 does not pass signals to a CLI plugin such as compose)
kids=; for p in $pids; do kids="$kids $(cat /proc/$p/task/*/children 2>/dev/null)"; done
for p in $pids $kids; do kill -TERM "$p" 2>/dev/null; done
if [ -n "$dir" ] && [ -f "$dir/reap" ] && [ ! -h "$dir/reap" ]; then
  /bin/sh "$dir/reap" "$dir"/tmp-* </dev/null >/dev/null 2>&1 & r=$!
  ( sleep 10; kill -KILL "$r" ) </dev/null >/dev/null 2>&1 & k=$!
  wait "$r"; kill "$k" 2>/dev/null
fi
# rm -rf only when node cannot run: it crosses mounts (a bind mount a command left in the directory)
[ -n "$dir" ] && { "$node" -e "$remove" "$dir" </dev/null >/dev/null 2>&1 || rm -rf --one-file-system -- "$dir"; }
# every process that carries the run's mark: a child started in the instant before its pid was written, grandchildren
if [ -n "$mark" ]; then
  for f in $(grep -lszxF -- "${RUN_MARK_VAR}=$mark" /proc/[0-9]*/environ 2>/dev/null); do
    p=\${f#/proc/}; p=\${p%/environ}
    [ "$p" = "$$" ] && continue
    kill -TERM "$p" 2>/dev/null && kids="$kids $p"
  done
fi
n=0
while [ $n -lt 20 ]; do
  alive=
  for p in $pids $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
  [ -z "$alive" ] && exit 0
  sleep 0.1; n=$((n+1))
done
for p in $pids $kids; do kill -KILL "$p" 2>/dev/null; done
exit 0
`;

export class Watchdog implements Watcher {
  private released = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly pipe: Writable,
  ) {}

  /** `dir` empty: a lifeline that only stops the children (docker save after the files are gone). */
  static start(dir: string, onDeath?: (pid: number | undefined) => void): Watchdog | undefined {
    let child: ChildProcess;
    try {
      // PATH only: the watchdog needs node, rm, sleep and kill, and no variable a secret came from (nor NODE_OPTIONS).
      child = spawnDetached('/bin/sh', ['-c', SCRIPT, 'secbuild-watchdog', dir, process.execPath, REMOVE_PROGRAM, runMark()], { env: minimalEnv(process.env) });
    } catch {
      return undefined;
    }
    const pipe = child.stdin!;
    pipe.on('error', () => {});
    // The open pipe must not keep secbuild's event loop alive.
    (pipe as unknown as { unref?: () => void }).unref?.();
    const watchdog = new Watchdog(child, pipe);
    child.once('exit', () => {
      if (!watchdog.released) onDeath?.(child.pid);
    });
    return watchdog;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  started(pid: number): void {
    if (this.pipe.writable) this.pipe.write(`pid ${pid}\n`);
  }

  exited(pid: number): void {
    if (this.pipe.writable) this.pipe.write(`exit ${pid}\n`);
  }

  /**
   * The run directory is being handed to a keeper (src/run/keeper.ts): from
   * now on a SIGKILL of secbuild still stops its children, but neither runs
   * the reaper nor removes the directory — the keeper's now. Written before
   * the keeper starts, so no instant is left in which both would act.
   */
  handOver(): void {
    if (this.pipe.writable) this.pipe.write('kept\n');
  }

  /** secbuild cleaned up itself: the watchdog exits without touching anything. */
  release(): void {
    this.released = true;
    if (this.pipe.writable) this.pipe.end('done\n');
  }
}
