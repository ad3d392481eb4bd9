#!/usr/bin/env bash
# CQL shell on dse-seed; -e "STATEMENT" runs one statement; --cluster restore targets the restore cluster.
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
exec "$DSELAB" cqlsh "$@"
