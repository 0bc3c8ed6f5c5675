#!/usr/bin/env bash
# Provisions a fresh Debian machine for secbuild's test suite:
# Debian's docker.io daemon (BuildKit via DOCKER_BUILDKIT=1 on its 20.10 client),
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
