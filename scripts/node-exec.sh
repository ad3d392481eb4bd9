#!/usr/bin/env bash
# Run a command in a node's data directory, e.g. ./scripts/node-exec.sh dse-seed ls training
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
exec "$DSELAB" node exec "$@"
