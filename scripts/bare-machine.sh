#!/usr/bin/env bash
# Issue 24 (a): the README's two commands on a machine with nothing but Node.
#
# A throw-away container from secbuild-test/debian:local (scripts/debian-image.sh;
# Debian's own node and npm are deleted in it) gets this machine's node and npm,
# read-only, and nothing else: no docker or podman binary, no daemon socket,
# no D-Bus, no compiler. As an unprivileged user it clones HEAD of this
# repository (committed state only) and runs, as the README prints them:
#
#   npm ci && npm run demo   exit 0: without docker it resolves the secret, checks the Dockerfile and says nothing was built
#   npm test                 exit 0; each skip says why in one "skipped: …" line
#   CI=true npm test         must FAIL (CI never skips)
#
# After each it checks that nothing new is left in /dev/shm, /tmp, /var/tmp
# or the home directory (npm's caches and secbuild's ~/.cache/secbuild
# aside). Prints each command's tail, wall time and exit code; exits 1 when
# an expectation fails. BARE_LOGS=DIR keeps the full logs. Removes the
# container and the clone whatever happens. Needs a docker (or
# ENGINE=podman) that runs containers and reaches the npm registry.
set -euo pipefail
ROOT=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
ENGINE=${ENGINE:-docker}
IMAGE=${IMAGE:-secbuild-test/debian:local}
NAME=secbuild-bare-$$
NODE=$(readlink -f "$(command -v node)")
NPM=$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")
WORK=$(mktemp -d /tmp/secbuild-bare-XXXXXX)
trap '"$ENGINE" rm -f "$NAME" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git clone -q --bare "$ROOT" "$WORK/repo.git"
CA=()
# An egress proxy's CA, where this machine needs one to reach the registry.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then CA=(-v "$NODE_EXTRA_CA_CERTS:/etc/secbuild-bare-ca.crt:ro" -e NODE_EXTRA_CA_CERTS=/etc/secbuild-bare-ca.crt); fi

cat >"$WORK/inside.sh" <<'EOF'
set -uo pipefail
rm -f /usr/bin/node /usr/bin/nodejs /usr/bin/npm /usr/bin/npx
mkdir -p /usr/local/lib/node_modules
ln -s /opt/npm /usr/local/lib/node_modules/npm
ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
useradd -m newcomer
for t in docker podman dbus-daemon dbus-run-session gcc cc; do
  if command -v "$t" >/dev/null; then echo "bare: $t is here: not a bare machine"; exit 1; fi
done
fail=0
as() { runuser -u newcomer -- env -i HOME=/home/newcomer PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS} "$@"; }
# May stay: the clone, npm's caches (~/.npm; ~/.cache/node-gyp, the headers
# npm ci fetches to try building the optional keytar) and secbuild's
# documented cache ($XDG_CACHE_HOME/secbuild: no values).
H=/home/newcomer
snap() { find /dev/shm /tmp /var/tmp $H $H/.cache -mindepth 1 -maxdepth 1 ! -path $H/secbuild ! -path $H/.npm ! -path $H/.cache ! -path $H/.cache/secbuild ! -path $H/.cache/node-gyp 2>/dev/null | sort; }
step() { # step WANT LABEL COMMAND: WANT is "ok" (exit 0) or "fail" (exit not 0)
  local want=$1 label=$2 cmd=$3 before start rc secs
  before=$(snap); start=$EPOCHREALTIME
  echo "bare: \$ $cmd"
  as bash -c "cd ~/secbuild && $cmd" >"/tmp/out" 2>&1; rc=$?
  secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.0f", b-a}')
  sed 's/^/  | /' /tmp/out | tail -n "${BARE_TAIL:-25}"
  cp /tmp/out "/log/$label.log"; rm -f /tmp/out
  echo "bare: $label: exit $rc in ${secs}s"
  if [ "$want" = ok ] && [ $rc -ne 0 ]; then echo "bare: FAIL: $label should exit 0"; fail=1
  elif [ "$want" = fail ] && [ $rc -eq 0 ]; then echo "bare: FAIL: $label should fail"; fail=1; fi
  if grep -qE '^\s+at .+:[0-9]+:[0-9]+\)?$' "/log/$label.log"; then echo "bare: FAIL: $label printed a stack trace"; fail=1; fi
  local left; left=$(comm -13 <(echo "$before") <(snap))
  if [ -n "$left" ]; then echo "bare: FAIL: $label left:"; echo "$left" | sed 's/^/  /'; fail=1; fi
}
git clone -q /src.git /home/newcomer/secbuild && chown -R newcomer: /home/newcomer/secbuild || exit 1
echo "bare: node $(as node --version), npm $(as npm --version), $(as git -C /home/newcomer/secbuild log --oneline -1)"
step ok demo 'npm ci && npm run demo'
step ok test 'npm test'
grep -E '^(tests|skipped|not run|failed to load):' /log/test.log | sed 's/^/bare: /'
step fail ci-test 'CI=true npm test'
grep -E '^(tests|skipped|not run|failed to load):' /log/ci-test.log | sed 's/^/bare: /'
exit $fail
EOF
mkdir -p "${BARE_LOGS:=$WORK/logs}"
"$ENGINE" run --rm --name "$NAME" --network bridge \
  -v "$NODE:/usr/local/bin/node:ro" -v "$NPM:/opt/npm:ro" -v "$WORK/repo.git:/src.git:ro" \
  -v "$WORK/inside.sh:/inside.sh:ro" -v "$BARE_LOGS:/log" "${CA[@]}" \
  "$IMAGE" bash /inside.sh
