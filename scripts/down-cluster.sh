#!/usr/bin/env bash
# Stop the lab cluster, keeping its data; --purge removes it for a fresh start.
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
exec "$DSELAB" down "$@"
