#!/usr/bin/env bash
# nodetool on dse-seed, e.g. ./scripts/nodetool.sh snapshot training -t lab_backup
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
exec "$DSELAB" nodetool --node dse-seed -- "$@"
