"""dselab's modules and the labs' check modules compiled ahead of use.

An editable install (`make setup`) leaves dselab's sources without bytecode, and a process that may
not write beside them (a classroom seat, a seat's observer) or runs with PYTHONDONTWRITEBYTECODE
compiles every module it imports again on each start: about 0.05-0.1 s of CPU per `dselab` command,
every Check and every `./scripts/nodetool.sh` included (benchmarks/warm_nodetool.py). Compiled once
here (by `make setup`, and by root for the classroom's seats), later commands only load it. Python
never uses a stale .pyc (it compares the source's size and time), so an edit costs nothing but
that one module's compile. A wheel install needs none of this: pip compiles it.

    python -m dselab.bytecode     # what `make setup` runs
"""

from __future__ import annotations

import compileall
import sys
from pathlib import Path

import dselab
from dselab import resources
from dselab.settings import Settings


def source_dirs(settings: Settings | None = None) -> list[Path]:
    """The package's folder and every lab root's checks/ folder."""
    folders = [Path(dselab.__file__).resolve().parent]
    folders += [root / "checks" for root in resources.lab_roots(settings) if (root / "checks").is_dir()]
    return folders


def precompile(settings: Settings | None = None) -> list[Path]:
    """Compile what `source_dirs` holds; the folders where a module did not compile (a lab author's
    syntax error is reported when the lab loads, not here)."""
    # workers=1: no process pool; quiet=2: not even errors (the caller names the folder)
    return [folder for folder in source_dirs(settings)
            if not compileall.compile_dir(str(folder), quiet=2, workers=1)]


def main() -> int:
    for folder in precompile():
        print(f"dselab: some modules in {folder} do not compile; they run from source", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
