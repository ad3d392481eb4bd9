#!/usr/bin/env bash
# Answer a read-only step's question: ./scripts/answer.sh 05 2 VALUE
set -euo pipefail
source "$(dirname "$0")/_dselab.sh"
exec "$DSELAB" answer "$@"
