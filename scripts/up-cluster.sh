#!/usr/bin/env bash
# Bring the three-node lab cluster up (quick when it already runs).
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
exec "$DSELAB" up "$@"
