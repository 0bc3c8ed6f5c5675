#!/bin/bash
# Install docker-buildx (0.13.x) and docker-compose (Compose v2, 2.26.x) on Debian 12 from Debian 13 "trixie",
# and nothing else. Idempotent: re-running changes nothing once both plugins are installed.
#
#  * adds a trixie source with the same URI as the bookworm entry in /etc/apt/sources.list.d/debian.sources
#    (or /etc/apt/sources.list), pinned low (Pin-Priority 100), so `apt-get upgrade` keeps taking bookworm's versions;
#    the two plugins get 500, so they follow trixie's updates and a plain `apt-get install docker-compose` means v2, not bookworm's 1.29;
#  * pins trixie's engine packages (docker.io, docker-cli, containerd, runc) to -1, so no command can pull them in by accident:
#    without that pin, `apt-get install docker-buildx/trixie` with Recommends removes bookworm's docker.io for trixie's
#    docker-cli, and `apt-get install -t trixie ...` with Recommends upgrades docker.io to 26.1 (a daemon restart);
#  * simulates the install first and aborts unless it installs exactly docker-buildx and docker-compose;
#  * checks that every docker client it finds (/usr/bin/docker, /usr/local/bin/docker, or $DOCKER_CLIENTS) sees both plugins.
# Both plugins land in /usr/libexec/docker/cli-plugins/ (plus a /usr/bin/docker-compose symlink to the same binary).
# Undo: apt-get purge docker-buildx docker-compose && rm /etc/apt/sources.list.d/$NAME.sources /etc/apt/preferences.d/$NAME && apt-get update
set -euo pipefail
NAME=${NAME:-secbuild-trixie}                     # file name of the source and the pin
SRC=/etc/apt/sources.list.d/$NAME.sources
PIN=/etc/apt/preferences.d/$NAME                # preferences.d ignores names with a dot unless they end in .pref
PKGS=(docker-buildx docker-compose)
export DEBIAN_FRONTEND=noninteractive
t0=$EPOCHREALTIME
log() { awk -v a="$t0" -v b="$EPOCHREALTIME" -v m="$*" 'BEGIN{printf "[modern-engines %5.1fs] %s\n", b-a, m}'; }

# --- the mirror URI, exactly as the existing bookworm entry spells it
URI=""
[ -f /etc/apt/sources.list.d/debian.sources ] && URI=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
[ -n "$URI" ] || URI=$(awk '$1=="deb" {for(i=2;i<=NF;i++) if($i ~ /^[a-z+]+:\/\//){print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$URI" ] || { echo "no Debian mirror URI found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list" >&2; exit 1; }

want_src="Types: deb
URIs: $URI
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
want_pin="# secbuild test machines: from trixie, only the two CLI plugins; everything else stays bookworm's.
# 500 = same as bookworm, so the higher version wins: docker-compose 2.x (not bookworm's python 1.29), and trixie's updates.
Package: docker-buildx docker-compose
Pin: release n=trixie
Pin-Priority: 500

# anything else from trixie only when named explicitly (pkg/trixie, apt-get download)
Package: *
Pin: release n=trixie
Pin-Priority: 100

# never trixie's engine: it would replace or restart bookworm's docker.io 20.10 daemon
Package: docker.io docker-cli containerd runc
Pin: release n=trixie
Pin-Priority: -1"

changed=0
if [ "$(cat "$SRC" 2>/dev/null)" != "$want_src" ]; then printf '%s\n' "$want_src" > "$SRC"; changed=1; log "wrote $SRC"; fi
if [ "$(cat "$PIN" 2>/dev/null)" != "$want_pin" ]; then printf '%s\n' "$want_pin" > "$PIN"; changed=1; log "wrote $PIN"; fi

# --- refresh only the trixie index (not bookworm's), when it is missing or the files changed
have_lists() { ls /var/lib/apt/lists/*_dists_trixie_InRelease >/dev/null 2>&1; }
if [ $changed = 1 ] || ! have_lists || [ "${FORCE_UPDATE:-0}" = 1 ]; then
  apt-get update -qq -o Dir::Etc::SourceList="$SRC" -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0
  log "apt-get update (trixie only) done"
fi

installed() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | cut -c1-2)" = ii ]; }
missing=(); for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  targets=(); for p in "${missing[@]}"; do targets+=("$p/trixie"); done
  plan=$(apt-get -s install --no-install-recommends "${targets[@]}" | awk '$1=="Inst"||$1=="Remv"{print $1, $2}')
  expect=$(for p in "${missing[@]}"; do echo "Inst $p"; done)
  if [ "$(sort <<<"$plan")" != "$(sort <<<"$expect")" ]; then
    echo "refusing: installing ${targets[*]} would do more than install them:" >&2; echo "$plan" >&2; exit 1
  fi
  apt-get install -y -qq --no-install-recommends "${targets[@]}" >/dev/null
  log "installed ${missing[*]} from trixie"
else
  log "already installed: $(dpkg-query -W -f='${Package} ${Version}  ' "${PKGS[@]}")"
fi

# --- every docker client must see both plugins
fail=0
for c in ${DOCKER_CLIENTS:-/usr/bin/docker /usr/local/bin/docker}; do
  [ -x "$c" ] || continue
  cv=$("$c" version --format '{{.Client.Version}}' 2>/dev/null || true)
  bx=$("$c" buildx version 2>&1 | head -1) || { echo "FAIL $c ($cv): docker buildx version: $bx"; fail=1; continue; }
  cp=$("$c" compose version 2>&1 | head -1) || { echo "FAIL $c ($cv): docker compose version: $cp"; fail=1; continue; }
  echo "ok   $c ($cv): $bx | $cp"
done

# --- nothing else may come from trixie on upgrade (checked when this run changed something: it takes ~10 s)
if [ $changed = 1 ] || [ ${#missing[@]} -gt 0 ] || [ "${CHECK_UPGRADE:-0}" = 1 ]; then
  n=$(apt-get -s dist-upgrade 2>/dev/null | grep '^Inst' | grep -c -E '\(.* (Debian:13|trixie)' || true)
  echo "apt-get -s dist-upgrade: $n package(s) would come from trixie"
  [ "$n" = 0 ] || fail=1
fi
log "done"
exit $fail
