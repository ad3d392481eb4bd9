# Sourced by the student scripts: find the dselab command (the project's venv first).
# These scripts are thin wrappers; all logic lives in `dselab`.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -x "$repo/.venv/bin/dselab" ]; then
  DSELAB="$repo/.venv/bin/dselab"
elif command -v dselab >/dev/null 2>&1; then
  DSELAB="$(command -v dselab)"
else
  echo "dselab is not installed yet: run 'make lab' (or 'make setup') in $repo first" >&2
  exit 2
fi
