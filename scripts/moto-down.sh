#!/bin/bash
# Remove the moto container started by moto-up.sh (its state is in memory, so this also forgets every secret).
# The image stays (remove it with: docker rmi secbuild-test/moto:local). Idempotent.
DOCKER=${DOCKER:-/usr/bin/docker}
NAME=${NAME:-secbuild-moto}
d() { env -u DOCKER_HOST -u DOCKER_CONTEXT "$DOCKER" "$@"; }
if d container inspect "$NAME" >/dev/null 2>&1; then d rm -f "$NAME" >/dev/null && echo "removed container $NAME"; fi
exit 0
