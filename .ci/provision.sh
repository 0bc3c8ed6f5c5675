#!/usr/bin/env bash
# Provisions a fresh Debian machine for secbuild's test suite:
# Debian's docker.io daemon (BuildKit via DOCKER_BUILDKIT=1 on its 20.10 client),
# Debian's podman (rootful) with the same base image,
# busybox-static for a local base image (no registry here), and gnome-keyring
# with libsecret for the keychain tests. Idempotent: safe to run twice.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
for p in docker.io busybox-static dbus gnome-keyring libsecret-tools libsecret-1-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Docker daemon -------------------------------------------------------------
# Debian's dockerd, started in the background unless a daemon already answers.
DOCKER=/usr/bin/docker   # Debian's 20.10 client: BuildKit via DOCKER_BUILDKIT=1
if ! "$DOCKER" info >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup dockerd >/var/log/secbuild-dockerd.log 2>&1 &
  for _ in $(seq 1 120); do
    "$DOCKER" info >/dev/null 2>&1 && break
    sleep 0.5
  done
  "$DOCKER" info >/dev/null 2>&1 || { echo "dockerd did not start; log:"; tail -n 50 /var/log/secbuild-dockerd.log; exit 1; }
fi

# --- Base image ----------------------------------------------------------------
# No registry here: a busybox-static root file system imported as an image.
IMAGE=secbuild-test/busybox:local
if ! "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/etc" "$rootfs/root" "$rootfs/dev" "$rootfs/proc" "$rootfs/sys"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $("$rootfs/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
  done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
  echo 'root:x:0:' >"$rootfs/etc/group"
  tar -C "$rootfs" -c . | "$DOCKER" import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
  rm -rf "$rootfs"
fi
echo "provisioned: $("$DOCKER" --version); image $IMAGE"

# --- Podman (issue 14) ----------------------------------------------------------
# Debian's podman 4.3.1 (buildah 1.28) for the --engine podman e2e tests, rootful
# with its default overlay storage; it does not touch docker.io, containerd or
# docker's runc. The busybox base image is copied from docker's storage once.
# (Recommends such as buildah, slirp4netns and fuse-overlayfs are for rootless
# use and are not needed here.)
if ! command -v podman >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends podman >/dev/null
fi
if ! podman image exists "$IMAGE" 2>/dev/null; then
  podman pull -q "docker-daemon:$IMAGE" >/dev/null
fi
echo "provisioned: $(podman --version); image $IMAGE in podman's storage"

# --- Real servers and a real Debian image (issue 12) ---------------------------
# The e2e tier's registry tests run git, npm and pip for real against local
# servers (test/helpers/servers.ts): nginx + fcgiwrap serve git smart-HTTP and
# a PEP 503 index behind basic auth; Verdaccio (a pinned install outside the
# repo, scripts/verdaccio/) is the private npm registry. The builds run FROM a
# debootstrapped Debian with git, pip and npm (scripts/debian-image.sh, a few
# minutes once per machine, skipped when the image exists).
repo=$(cd "$(dirname "$0")/.." && pwd)
need=()
for p in nginx-light fcgiwrap debootstrap python3-pip python3-setuptools python3-wheel curl git openssl; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # Without a policy-rc.d that forbids it, installing nginx starts its default
  # site on port 80; the tests start their own nginx, so stop that one.
  case " ${need[*]} " in
    *" nginx-light "*) if [ -f /run/nginx.pid ] && ! command -v systemctl >/dev/null 2>&1; then kill "$(cat /run/nginx.pid)" 2>/dev/null || true; fi ;;
  esac
fi
bash "$repo/scripts/verdaccio-install.sh"
DOCKER="$DOCKER" bash "$repo/scripts/debian-image.sh"

# --- SSH (issue 15) --------------------------------------------------------------
# --ssh-key runs ssh-agent and ssh-add (openssh-client); the e2e tier's
# git-over-ssh server is an sshd of its own on 127.0.0.1 (test/helpers/sshd.ts),
# so openssh-server is installed but its distro service is not wanted: where no
# policy-rc.d keeps it from starting and there is no systemd, stop it again.
need=()
for p in openssh-client openssh-server; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  if [ -f /run/sshd.pid ] && ! command -v systemctl >/dev/null 2>&1; then kill "$(cat /run/sshd.pid)" 2>/dev/null || true; fi
fi

# --- Modern engines (issue 23) --------------------------------------------------
# docker-buildx 0.13 and Compose v2 2.26 from Debian trixie, pinned so nothing
# else comes from trixie (scripts/modern-engines.sh simulates first and refuses
# an install that would do more), and a second daemon, trixie's docker.io 26.1
# extracted (not installed) with a private apt state, on its own socket, data
# root, bridge and containerd, also on tcp://127.0.0.1:$SECBUILD_D26_TLS_PORT
# with mutual TLS (a throw-away CA) (scripts/dockerd26-up.sh; never with
# --bridge=none: dockerd 26 would delete the main daemon's docker0). The e2e
# matrix (test/e2e/engines.test.ts) builds on both daemons through the 20.10
# client, the 28 client's buildx, a docker context and Compose v2.
bash "$repo/scripts/modern-engines.sh"
TLS_PORT="${SECBUILD_D26_TLS_PORT:-23762}" BASE_IMAGE="$IMAGE" MAIN_DOCKER="$DOCKER" bash "$repo/scripts/dockerd26-up.sh"

# --- Secret stores (issue 27) -----------------------------------------------------
# pass: (password-store 1.7.4) and gnupg for the pass provider's real tests,
# which make a throw-away GNUPGHOME with a passphrase-less key
# (test/helpers/pass-store.ts); awscli (2.9.x) for aws-sm:/aws-ssm:; age
# (1.1.1) for age:. All from bookworm: nothing here comes from trixie.
need=()
for p in pass gnupg awscli age; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# moto_server (Debian trixie's python3-moto 5.1) for the AWS tests, as
# ../shared/recipes section E: an image secbuild-test/moto:local built FROM
# debian-image.sh's image, with python3-moto from trixie pinned at 100 inside
# the image only (its dependencies from bookworm); the host gets nothing from
# trixie. The tests start one container per run on a free port
# (test/helpers/moto.ts); here it is only built and checked to answer.
if ! "$DOCKER" image inspect secbuild-test/moto:local >/dev/null 2>&1; then
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  DOCKER="$DOCKER" NAME=secbuild-moto-provision PORT="$port" bash "$repo/scripts/moto-up.sh"
  DOCKER="$DOCKER" NAME=secbuild-moto-provision bash "$repo/scripts/moto-down.sh"
fi
