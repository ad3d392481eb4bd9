# Sourced by the student scripts: find the dselab command. These scripts are thin wrappers;
# all logic lives in `dselab`. In a folder made by `dselab init`, the next line holds the
# absolute path of the dselab that made it; in a source checkout it stays empty and the
# checkout's .venv (make setup) is used.
recorded_dselab=""
folder="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -n "$recorded_dselab" ] && [ -x "$recorded_dselab" ]; then
  DSELAB="$recorded_dselab"
elif [ -x "$folder/.venv/bin/dselab" ]; then
  DSELAB="$folder/.venv/bin/dselab"
elif command -v dselab >/dev/null 2>&1; then
  DSELAB="$(command -v dselab)"
elif [ -n "$recorded_dselab" ]; then
  echo "the dselab this folder was made with ($recorded_dselab) is gone: install dselab, then run 'dselab init' in a new folder" >&2
  exit 2
else
  echo "dselab is not installed yet: run 'make lab' (or 'make setup') in $folder first" >&2
  exit 2
fi
