#!/usr/bin/env bash
# The separate restore cluster: up | down [--purge]
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
exec "$DSELAB" restore-cluster "$@"
