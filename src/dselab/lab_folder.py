"""A student's lab folder: scripts/, each lab's data/ and a README, made by `dselab init DIR`.

From that folder the module's commands run verbatim (`./scripts/nodetool.sh snapshot training
-t lab_backup`, `./scripts/cqlsh.sh < labs/05-backup-restore/data/new-rows.cql`). The scripts
find dselab through the absolute path recorded in scripts/_dselab.sh when the folder was made.
`dselab solve` and `dselab test` type their commands in such a folder too, one dselab keeps
in its state home and rewrites before use.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from dselab import paths, resources
from dselab.catalogue import load_all
from dselab.errors import EnvironmentProblem, UsageError
from dselab.lab import Lab
from dselab.settings import Settings

LAUNCHER = "_dselab.sh"
RECORDED_LINE = 'recorded_dselab=""'  # the line of scripts/_dselab.sh that init fills in

README = """# dselab lab folder

Made by `dselab init`. Run the labs' commands from this folder, exactly as the pages show them:

    dselab start 05                                        # cluster up, lab 05 opened
    ./scripts/nodetool.sh snapshot training -t lab_backup  # a step's command
    dselab check 05 1                                      # does the live cluster agree?
    dselab serve                                           # the same pages in a browser

`scripts/` wraps the `dselab` command recorded in `scripts/_dselab.sh`:
{dselab}
`labs/<lab>/data/` holds the files some steps load. `dselab --help` lists every command.
"""


def dselab_command() -> Path:
    """The `dselab` executable of this installation (not resolved: a venv's links must stay)."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "dselab" and argv0.is_file():
        return argv0.absolute()
    beside = Path(sys.executable).parent / "dselab"
    if beside.is_file():
        return beside.absolute()
    found = shutil.which("dselab")
    if found:
        return Path(found).absolute()
    raise EnvironmentProblem("cannot find the dselab command to record in scripts/_dselab.sh",
                             fix="install dselab so that `dselab` is on PATH, then run init again")


def typed_command() -> str:
    """How to type this dselab here: `dselab` when PATH finds it, `.venv/bin/dselab` in the folder
    holding its venv (a checkout after make setup), else its absolute path."""
    mine = dselab_command()
    on_path = shutil.which("dselab")
    if on_path and Path(on_path).resolve() == mine.resolve():
        return "dselab"
    if len(mine.parents) > 2 and mine.parents[2] == Path.cwd():
        return str(mine.relative_to(Path.cwd()))
    return str(mine)


def launcher_text(dselab: Path) -> str:
    """scripts/_dselab.sh with the dselab command recorded in it."""
    text = (resources.scripts_dir() / LAUNCHER).read_text()
    if RECORDED_LINE not in text:
        raise EnvironmentProblem(f"scripts/{LAUNCHER} lacks the line {RECORDED_LINE!r} that init fills in",
                                 fix="reinstall dselab")
    return text.replace(RECORDED_LINE, f"recorded_dselab={shlex.quote(str(dselab))}", 1)


def folder_files(labs: Iterable[Lab], dselab: Path) -> dict[str, tuple[bytes, bool]]:
    """Every file of a lab folder: relative path -> (content, executable)."""
    files: dict[str, tuple[bytes, bool]] = {}
    for script in sorted(resources.scripts_dir().iterdir()):
        if script.is_file() and script.suffix == ".sh":
            content = launcher_text(dselab).encode() if script.name == LAUNCHER else script.read_bytes()
            files[f"scripts/{script.name}"] = (content, script.name != LAUNCHER)
    for lab in labs:
        data = lab.root / "data"
        for item in sorted(data.rglob("*")) if data.is_dir() else ():
            if item.is_file():
                files[f"labs/{lab.id}/data/{item.relative_to(data).as_posix()}"] = (item.read_bytes(), False)
    files["README.md"] = (README.format(dselab=f"    {dselab}").encode(), False)
    return files


def _write(dest: Path, files: dict[str, tuple[bytes, bool]], overwrite: bool) -> list[Path]:
    """Write the files; `overwrite` replaces each atomically (a script may be running from it)."""
    written = []
    for relative, (content, executable) in files.items():
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.new") if overwrite else target
        try:
            with open(staged, "wb" if overwrite else "xb") as out:
                out.write(content)
        except FileExistsError:
            raise UsageError(f"{target} already exists; dselab init never overwrites a file",
                             fix="pick a new folder") from None
        staged.chmod(0o755 if executable else 0o644)
        if overwrite:
            os.replace(staged, target)
        written.append(target)
    return written


def init_folder(dest: Path) -> list[Path]:
    """Make a new lab folder at `dest` (which must not exist, or be empty). Returns the files written."""
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} exists and is not a folder", fix="pick a new folder name")
    if dest.is_dir() and any(dest.iterdir()):
        raise UsageError(f"{dest} is not empty; dselab init writes only into a new or empty folder",
                         fix="pick a new folder name")
    try:
        dest.mkdir(parents=True, exist_ok=True)
        return _write(dest, folder_files(load_all(), dselab_command()), overwrite=False)
    except PermissionError as err:
        raise UsageError(f"cannot write {err.filename}: permission denied") from None


_REFRESHED: set[Path] = set()


def working_folder(settings: Settings | None = None) -> Path:
    """The lab folder in dselab's state home where solve and test type their commands (rewritten
    once per process, so it always matches this installation)."""
    dest = paths.home(settings) / "lab-folder"
    if dest not in _REFRESHED:
        _write(dest, folder_files(load_all(), dselab_command()), overwrite=True)
        _REFRESHED.add(dest)
    return dest
