#!/usr/bin/env bash
# A real Debian bookworm base image with git, pip and npm, for the e2e builds
# that run the real tools (git clone, pip install, npm ci) against local
# servers. There is no registry here, so it is made with debootstrap from the
# Debian mirror apt already uses, then `docker import`ed. About 2 minutes and
# ~650 MB; idempotent (exits at once when the image exists). Needs root.
set -euo pipefail
IMAGE=${IMAGE:-secbuild-test/debian:local}
DOCKER=${DOCKER:-/usr/bin/docker}
if "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then echo "$IMAGE exists"; exit 0; fi
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
MIRROR=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
R=$(mktemp -d)
trap 'umount "$R/proc" 2>/dev/null || true; rm -rf "$R"' EXIT
# npm in --include trips debootstrap's resolver: it is installed with apt inside the chroot instead.
debootstrap --variant=minbase --include=git,ca-certificates,python3-pip bookworm "$R" "$MIRROR" >/dev/null
mount -t proc proc "$R/proc"
chroot "$R" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null'
umount "$R/proc"
rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/*
tar -C "$R" -c . | "$DOCKER" import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$IMAGE" >/dev/null
echo "imported $IMAGE"
