#!/usr/bin/env bash
# sstableloader next to a node: ./scripts/sstableloader.sh dse-seed -d dse-restore DIR
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
exec "$DSELAB" sstableloader "$@"
