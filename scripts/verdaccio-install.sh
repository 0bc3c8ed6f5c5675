#!/usr/bin/env bash
# Installs the pinned Verdaccio of scripts/verdaccio/ (package.json and its
# lock file) outside the repository, into $SECBUILD_VERDACCIO_DIR (default
# /opt/secbuild-test/verdaccio), so it adds nothing to the project's own
# `npm ci`. Idempotent: nothing to do when that lock file is already installed.
# ~50 s and 58 MB the first time, from the npm registry.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest=${SECBUILD_VERDACCIO_DIR:-/opt/secbuild-test/verdaccio}
if [ -x "$dest/node_modules/.bin/verdaccio" ] && cmp -s "$here/verdaccio/package-lock.json" "$dest/package-lock.json"; then
  echo "verdaccio installed in $dest"; exit 0
fi
mkdir -p "$dest"
cp "$here/verdaccio/package.json" "$here/verdaccio/package-lock.json" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
echo "verdaccio $(node -p "require('$dest/node_modules/verdaccio/package.json').version") installed in $dest"
