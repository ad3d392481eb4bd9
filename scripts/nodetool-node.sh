#!/usr/bin/env bash
# nodetool on one node, e.g. ./scripts/nodetool-node.sh dse-node-1 cleanup
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
if [ $# -lt 1 ]; then
  echo "usage: $0 NODE NODETOOL-ARGS...  (nodes: dse-seed, dse-node-1, dse-node-2)" >&2
  exit 2
fi
node="$1"; shift
exec "$DSELAB" nodetool --node "$node" -- "$@"
