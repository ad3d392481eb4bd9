#!/usr/bin/env bash
# Start one node and wait until it serves CQL, e.g. ./scripts/start-node.sh dse-node-1
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
if [ $# -ne 1 ]; then
  echo "usage: $0 NODE  (nodes: dse-seed, dse-node-1, dse-node-2)" >&2
  exit 2
fi
exec "$DSELAB" node start "$1"
