#!/bin/bash
# A local AWS emulator (moto_server 5.1.1, Debian trixie's python3-moto) for Secrets Manager and SSM Parameter Store,
# in a container on the main daemon with --network host, listening on $BIND:$PORT (default 127.0.0.1:5000).
# Image: built once FROM secbuild-test/debian:local (bookworm; see debian-image.sh) with python3-moto from trixie and
# every dependency from bookworm (about 30 s); when that base is missing, from a debootstrapped trixie rootfs
# (MOTO_FROM=debootstrap forces it; about 2-3 min). Idempotent: a running, answering container is left alone.
#   moto-up.sh; export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
#   aws --endpoint-url http://127.0.0.1:5000 secretsmanager get-secret-value --secret-id NAME
# State is in memory: `curl -X POST http://127.0.0.1:5000/moto-api/reset` empties it; moto-down.sh removes the container.
set -euo pipefail
DOCKER=${DOCKER:-/usr/bin/docker}
IMAGE=${IMAGE:-secbuild-test/moto:local}
NAME=${NAME:-secbuild-moto}
BASE=${BASE:-secbuild-test/debian:local}
BIND=${BIND:-127.0.0.1}              # 0.0.0.0 also works, but exposes an unauthenticated emulator on every interface
PORT=${PORT:-5000}
MOTO_FROM=${MOTO_FROM:-auto}         # auto | base | debootstrap
PKGS="python3-moto python3-flask python3-flask-cors python3-yaml"   # moto's ssm imports yaml (a Recommends); the server needs flask_cors
t0=$EPOCHREALTIME
log() { awk -v a="$t0" -v b="$EPOCHREALTIME" -v m="$*" 'BEGIN{printf "[moto-up %5.1fs] %s\n", b-a, m}'; }
d() { env -u DOCKER_HOST -u DOCKER_CONTEXT "$DOCKER" "$@"; }   # always the main daemon
ready() { curl -sf -o /dev/null "http://127.0.0.1:$PORT/moto-api/"; }

if [ "$(d inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] && ready; then
  log "already running: container $NAME on $BIND:$PORT"; exit 0
fi

if ! d image inspect "$IMAGE" >/dev/null 2>&1; then
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1=="deb" {for(i=2;i<=NF;i++) if($i ~ /^[a-z+]+:\/\//){print $i; exit}}' /etc/apt/sources.list)
  T=$(mktemp -d /tmp/secbuild-moto.XXXXXX); trap 'umount "$T/root/proc" 2>/dev/null || true; rm -rf "$T"' EXIT
  if [ "$MOTO_FROM" = base ] || { [ "$MOTO_FROM" = auto ] && d image inspect "$BASE" >/dev/null 2>&1; }; then
    cat > "$T/Dockerfile" <<EOF
FROM $BASE
# python3-moto from trixie, its dependencies from bookworm: trixie pinned to 100 inside the image
RUN set -e; uri=\$(awk '\$1=="deb"{print \$2; exit}' /etc/apt/sources.list); \\
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "\$uri" > /etc/apt/sources.list.d/trixie.list; \\
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie; \\
    apt-get update -qq; \\
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-moto/trixie ${PKGS#python3-moto } >/dev/null; \\
    rm -rf /var/lib/apt/lists/*
CMD ["moto_server", "-H", "127.0.0.1", "-p", "5000"]
EOF
    DOCKER_BUILDKIT=1 d build -q --network=host -t "$IMAGE" "$T" >/dev/null     # --network=host: apt reaches the mirror
    log "built $IMAGE from $BASE"
  else
    command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    # the python packages go in with apt inside the chroot: in --include, python3-cryptography fails to configure
    debootstrap --variant=minbase trixie "$T/root" "$mirror" >"$T/debootstrap.log" 2>&1 \
      || { tail -20 "$T/debootstrap.log" >&2; exit 1; }
    mount -t proc proc "$T/root/proc"
    chroot "$T/root" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PKGS >/dev/null"
    umount "$T/root/proc"
    rm -rf "$T"/root/var/cache/apt/archives/*.deb "$T"/root/var/lib/apt/lists/*
    tar -C "$T/root" -c . | d import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      -c 'CMD ["moto_server", "-H", "127.0.0.1", "-p", "5000"]' - "$IMAGE" >/dev/null
    log "built $IMAGE with debootstrap trixie"
  fi
fi

d rm -f "$NAME" >/dev/null 2>&1 || true             # a stopped one of ours
d run -d --name "$NAME" --network host --restart no "$IMAGE" moto_server -H "$BIND" -p "$PORT" >/dev/null
for _ in $(seq 1 80); do ready && break; sleep 0.25; done
ready || { d logs "$NAME" 2>&1 | tail -20 >&2; echo "moto_server did not answer on port $PORT" >&2; exit 1; }
log "moto_server $(d exec "$NAME" python3 -c 'import moto; print(moto.__version__)') answering on $BIND:$PORT (container $NAME)"
