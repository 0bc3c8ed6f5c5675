#!/bin/bash
# A second, modern Docker daemon (Debian trixie's docker.io 26.1.5; BuildKit v0.13.2 per its vendor.mod, but
# `docker buildx inspect` shows "v0.0.0+unknown" for Debian's build) beside bookworm's 20.10,
# without installing it: `apt-get download` the .deb with a private apt state (the system's sources are not
# touched), `dpkg-deb -x` it into $PREFIX, and run its dockerd on its own socket, data root, exec root and pid file.
# It uses bookworm's containerd 1.6 and runc 1.1 binaries; dockerd starts its own private containerd under the
# exec root, so the main daemon's containerd is not shared. No iptables rules, no NAT, no ip_forward change.
# Networking: its own Linux bridge $BRIDGE ($BRIDGE_CIDR), made here, and its own address pool for user networks.
# DANGER, verified: dockerd 26 deletes the host's `docker0` interface (which belongs to the MAIN daemon; every
# default-network container and BuildKit RUN step there then fails with "could not find bridge docker0") when
#   (a) it is started with --bridge=none, or
#   (b) it restarts on a data root whose network store holds its old "bridge" network while --default-address-pool
#       is set (moby daemon/daemon_unix.go, initNetworkController: removeDefaultBridgeInterface()).
# So this script never passes --bridge=none and deletes the network store (data/network/files/local-kv.db) before
# every start. Repair if it happened anyway: ip link add docker0 type bridge; ip addr add 172.17.0.1/16 dev docker0; ip link set docker0 up
# Optionally also listens on tcp://127.0.0.1:$TLS_PORT with mutual TLS (certs made here with openssl).
# Idempotent: a running instance (pid alive and socket answering) is left alone.
#
#   dockerd26-up.sh                       # unix socket only
#   TLS_PORT=23762 dockerd26-up.sh        # plus TLS on 127.0.0.1:23762
#   export DOCKER_HOST=unix:///tmp/secbuild-servers/docker26/docker.sock
#   # TLS: DOCKER_HOST=tcp://127.0.0.1:23762 DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=/tmp/secbuild-servers/docker26/tls/client
# Stop with dockerd26-down.sh.
set -euo pipefail
PREFIX=${PREFIX:-/opt/secbuild-test/docker26}         # extracted package (usr/sbin/dockerd, usr/sbin/docker-proxy)
CACHE=${CACHE:-/opt/secbuild-test/cache}              # downloaded .deb files + private apt state
STATE=${STATE:-/tmp/secbuild-servers/docker26}         # socket, pid file, log, data root, exec root, TLS material
TLS_PORT=${TLS_PORT:-}                                 # empty: no TCP listener
BRIDGE=${BRIDGE:-secbuild-br26}                          # never "none" (see above); must not be docker0
BRIDGE_CIDR=${BRIDGE_CIDR:-10.226.26.1/24}             # outside docker's default pools (172.17-31/16, 192.168/20)
POOL=${POOL:-10.226.128.0/17}                          # user-defined networks (compose's project_default) get /24s from here
CGROUP_PARENT=${CGROUP_PARENT:-secbuild-docker26}        # cgroupfs driver (a plain name, not a systemd slice): /sys/fs/cgroup/*/$CGROUP_PARENT
BASE_IMAGE=${BASE_IMAGE-secbuild-test/busybox:local}             # copied from the main daemon into this one ("" to skip)
MAIN_DOCKER=${MAIN_DOCKER:-/usr/bin/docker}            # client used for `docker save` from the main daemon and for `load`
MAIN_HOST=${MAIN_HOST:-unix:///var/run/docker.sock}    # the main daemon, where $BASE_IMAGE comes from
SOCK=$STATE/docker.sock
case "$BRIDGE" in none|docker0|"") echo "BRIDGE=$BRIDGE would delete or take over the main daemon's docker0; use a bridge of its own" >&2; exit 2;; esac
t0=$EPOCHREALTIME
log() { awk -v a="$t0" -v b="$EPOCHREALTIME" -v m="$*" 'BEGIN{printf "[dockerd26-up %5.1fs] %s\n", b-a, m}'; }
d26() { env -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH DOCKER_HOST="unix://$SOCK" "$MAIN_DOCKER" "$@"; }

# ---------- 1. binaries: download + extract once
if [ ! -x "$PREFIX/usr/sbin/dockerd" ]; then
  command -v containerd >/dev/null && command -v runc >/dev/null || { echo "needs bookworm's containerd and runc (apt-get install containerd runc)" >&2; exit 1; }
  URI=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$URI" ] || URI=$(awk '$1=="deb" {for(i=2;i<=NF;i++) if($i ~ /^[a-z+]+:\/\//){print $i; exit}}' /etc/apt/sources.list)
  A=$CACHE/apt; mkdir -p "$A/lists/partial" "$A/archives/partial" "$A/prefs.d"
  printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$URI" > "$A/trixie.sources"
  APTOPT=(-o Dir::Etc::SourceList="$A/trixie.sources" -o Dir::Etc::SourceParts=- -o Dir::Etc::PreferencesParts="$A/prefs.d"
          -o Dir::State::Lists="$A/lists" -o Dir::Cache="$A" -o Dir::Cache::archives="$A/archives" -o APT::Sandbox::User=root)
  apt-get "${APTOPT[@]}" update -qq
  (cd "$CACHE" && apt-get "${APTOPT[@]}" download -qq "docker.io/trixie")
  deb=$(ls -t "$CACHE"/docker.io_*.deb | head -1)
  rm -rf "$PREFIX.tmp"; mkdir -p "$PREFIX.tmp"
  dpkg-deb -x "$deb" "$PREFIX.tmp"
  basename "$deb" > "$PREFIX.tmp/DEB"
  rm -rf "$PREFIX"; mv "$PREFIX.tmp" "$PREFIX"
  log "extracted $(cat "$PREFIX/DEB") into $PREFIX"
fi

# ---------- 2. already running?
if [ -f "$STATE/docker.pid" ] && kill -0 "$(cat "$STATE/docker.pid")" 2>/dev/null && d26 version >/dev/null 2>&1; then
  log "already running: pid $(cat "$STATE/docker.pid"), $(d26 version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}')"
  if [ -n "$TLS_PORT" ] && ! env -u DOCKER_CONTEXT DOCKER_HOST="tcp://127.0.0.1:$TLS_PORT" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$STATE/tls/client" "$MAIN_DOCKER" version >/dev/null 2>&1; then
    echo "it does not answer with TLS on 127.0.0.1:$TLS_PORT (started without TLS_PORT, or with another port): stop it with dockerd26-down.sh and start again" >&2; exit 1
  fi
  if [ -n "$BASE_IMAGE" ] && ! d26 image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    env -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH DOCKER_HOST="$MAIN_HOST" "$MAIN_DOCKER" save "$BASE_IMAGE" | d26 load -q >/dev/null
    log "loaded $BASE_IMAGE from the main daemon"
  fi
  exit 0
fi

mkdir -p "$STATE/data" "$STATE/exec"
rm -f "$STATE/data/network/files/local-kv.db"         # guard (b) above: no stale "bridge" network at start
chmod 700 "$STATE"
echo '{}' > "$STATE/daemon.json"                      # never read /etc/docker/daemon.json (the main daemon's config)

# ---------- 3. TLS material (EC P-256 CA, server cert for 127.0.0.1/localhost, client cert), made once per $STATE
HOSTS=(-H "unix://$SOCK")
if [ -n "$TLS_PORT" ]; then
  T=$STATE/tls
  if [ ! -f "$T/client/key.pem" ]; then
    mkdir -p "$T/client"; ( umask 077; cd "$T"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca-key.pem
    openssl req -x509 -new -key ca-key.pem -sha256 -days 30 -subj "/CN=secbuild-test docker26 CA" -out ca.pem
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out server-key.pem
    openssl req -new -key server-key.pem -subj "/CN=localhost" -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 -sha256 -extfile server.ext -out server-cert.pem 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out client/key.pem
    openssl req -new -key client/key.pem -subj "/CN=secbuild-test client" -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' > client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 30 -sha256 -extfile client.ext -out client/cert.pem 2>/dev/null
    cp ca.pem client/ca.pem; rm -f server.csr client.csr )
    log "TLS material in $T (client: $T/client)"
  fi
  HOSTS+=(-H "tcp://127.0.0.1:$TLS_PORT" --tlsverify --tlscacert "$T/ca.pem" --tlscert "$T/server-cert.pem" --tlskey "$T/server-key.pem")
fi

# ---------- 4. start
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge && ip addr add "$BRIDGE_CIDR" dev "$BRIDGE" && ip link set "$BRIDGE" up
  log "created bridge $BRIDGE ($BRIDGE_CIDR)"
fi
# safety net: remember the main daemon's docker0 (name, address) and put it back if this start removed it anyway
d0=$(ip -4 -o addr show dev docker0 2>/dev/null | awk '{print $4; exit}' || true)
# PATH: its own docker-proxy first; containerd, runc, docker-init (tini) come from bookworm's packages.
PATH=$PREFIX/usr/sbin:$PREFIX/usr/bin:$PATH setsid "$PREFIX/usr/sbin/dockerd" \
  "${HOSTS[@]}" \
  --config-file "$STATE/daemon.json" \
  --data-root "$STATE/data" --exec-root "$STATE/exec" --pidfile "$STATE/docker.pid" \
  --bridge="$BRIDGE" --default-address-pool "base=$POOL,size=24" \
  --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
  --userland-proxy=false \
  --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent="$CGROUP_PARENT" \
  --storage-driver=overlay2 \
  --log-level=warn \
  </dev/null >"$STATE/dockerd.log" 2>&1 &
pid=$!
for _ in $(seq 1 120); do
  d26 version >/dev/null 2>&1 && break
  kill -0 $pid 2>/dev/null || { echo "dockerd exited; last log lines:" >&2; tail -20 "$STATE/dockerd.log" >&2; exit 1; }
  sleep 0.25
done
d26 version >/dev/null 2>&1 || { echo "dockerd did not answer within 30 s" >&2; tail -20 "$STATE/dockerd.log" >&2; exit 1; }
if [ -n "$d0" ] && ! ip link show docker0 >/dev/null 2>&1; then
  ip link add docker0 type bridge && ip addr add "$d0" dev docker0 && ip link set docker0 up
  echo "WARNING: dockerd 26 deleted the main daemon's docker0; re-created it with $d0" >&2
fi
log "dockerd pid $pid up: $(d26 version --format 'engine {{.Server.Version}}, API {{.Server.APIVersion}}'); containerd $(d26 info --format '{{.ContainerdCommit.ID}}')"

# ---------- 5. base image
if [ -n "$BASE_IMAGE" ] && ! d26 image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  env -u DOCKER_CONTEXT -u DOCKER_TLS_VERIFY -u DOCKER_CERT_PATH DOCKER_HOST="$MAIN_HOST" "$MAIN_DOCKER" save "$BASE_IMAGE" | d26 load -q >/dev/null
  log "loaded $BASE_IMAGE from the main daemon"
fi
echo "DOCKER_HOST=unix://$SOCK"
[ -z "$TLS_PORT" ] || echo "DOCKER_HOST=tcp://127.0.0.1:$TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$STATE/tls/client"
