#!/bin/bash
# Stop the daemon started by dockerd26-up.sh, by its pid file, and everything it left: its private containerd,
# and (only after a KILL) its containers and their shims. Then remove its bridge(s), its cgroup parent and,
# unless KEEP_DATA=1, its state directory (data root, exec root, socket, log, TLS material). Idempotent.
# Every process it signals is identified by this daemon's own pid files or socket path, never by a program name.
# The extracted binaries in /opt/secbuild-test/docker26 and the .deb cache stay (remove them by hand if wanted).
set -euo pipefail
STATE=${STATE:-/tmp/secbuild-servers/docker26}
BRIDGE=${BRIDGE:-secbuild-br26}                          # the bridge dockerd26-up.sh created
CGROUP_PARENT=${CGROUP_PARENT:-secbuild-docker26}        # the cgroup parent dockerd26-up.sh gave it
CSOCK=$STATE/exec/containerd/containerd.sock           # its private containerd's socket (shims name it in -address)
RUNC_ROOT=$STATE/exec/runtime-runc/moby                # runc state of its containers
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
stop_pid() {  # $1 pid, $2 name; TERM, wait up to 20 s (dockerd stops its containers first), then KILL
  local pid=$1
  alive "$pid" || return 0
  kill -TERM "$pid"
  for _ in $(seq 1 80); do alive "$pid" || { echo "stopped $2 (pid $pid)"; return 0; }; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true; echo "killed $2 (pid $pid) after 20 s"
}
[ -f "$STATE/docker.pid" ] && stop_pid "$(cat "$STATE/docker.pid")" dockerd
# dockerd stops its containerd on a clean exit; after a KILL it may be left behind
[ -f "$STATE/exec/containerd/containerd.pid" ] && stop_pid "$(cat "$STATE/exec/containerd/containerd.pid")" containerd

# after a KILL of dockerd, containers keep running under their shims: kill them through runc, then the shims
if [ -d "$RUNC_ROOT" ]; then
  for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do runc --root "$RUNC_ROOT" delete --force "$id" && echo "deleted leftover container ${id:0:12}"; done
fi
for p in /proc/[0-9]*; do
  tr '\0' '\n' 2>/dev/null <"$p/cmdline" | grep -qxF -- "$CSOCK" || continue   # a shim started with -address $CSOCK
  kill -KILL "${p#/proc/}" 2>/dev/null && echo "killed leftover shim ${p#/proc/}"
done

# after a KILL, the bridges of its user-defined networks (br-*, in dockerd26-up.sh's POOL 10.226.128.0/17) stay behind
ip -4 -o addr show | awk '$2 ~ /^br-/ && $4 ~ /^10\.226\.(1(2[89]|[3-9][0-9])|2[0-5][0-9])\./ {print $2}' | while read -r b; do ip link del "$b" && echo "deleted $b"; done
if [ "$BRIDGE" != docker0 ] && ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE" && echo "deleted bridge $BRIDGE"; fi
# the (now empty) cgroup parent directories, one per cgroup v1 controller (or one on v2); rmdir fails on a busy one
for d in /sys/fs/cgroup/"$CGROUP_PARENT" /sys/fs/cgroup/*/"$CGROUP_PARENT"; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true; done
if [ "${KEEP_DATA:-0}" != 1 ] && [ -d "$STATE" ]; then
  # lazy-unmount whatever is still mounted below $STATE (overlay layers, container shm, netns), deepest first
  awk -v s="$STATE/" 'index($5, s)==1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$STATE"
  echo "removed $STATE"
fi
