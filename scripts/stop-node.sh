#!/usr/bin/env bash
# Stop one node, e.g. ./scripts/stop-node.sh dse-node-1 (its data is kept)
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
if [ $# -ne 1 ]; then
  echo "usage: $0 NODE  (nodes: dse-seed, dse-node-1, dse-node-2)" >&2
  exit 2
fi
exec "$DSELAB" node stop "$1"
