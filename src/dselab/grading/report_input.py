"""Finding and reading report.json files for a gradebook, safely.

The folders come from students' hands, so nothing in them is trusted: only regular files are
read (never a FIFO, which would block, or a device, which never ends), a symlink may not lead
outside the folder it was found in, a file is read up to a size cap, and a name that is not
UTF-8 is shown with escapes instead of breaking the output.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dselab.errors import UsageError

REPORT_NAME = "report.json"
MAX_REPORT_BYTES = 5 * 1024 * 1024  # a real report with full evidence is well under 1 MiB


@dataclass(frozen=True)
class FoundReport:
    path: Path  # as found (a symlink stays a symlink here)
    folder: Path | None  # the folder it was found under; None when named directly


def shown(path: Path | str) -> str:
    """A path as printable text: bytes that are not UTF-8 appear as \\xNN escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def is_utf8_name(path: Path | str) -> bool:
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def find_reports(paths: Sequence[Path]) -> list[FoundReport]:
    """report.json files named directly or found under folders (symlinked folders not followed),
    each once. What they are (regular file or not) is judged when they are read."""
    missing = [shown(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    found: list[FoundReport] = []
    for path in map(Path, paths):
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                if REPORT_NAME in files:
                    found.append(FoundReport(Path(root) / REPORT_NAME, path))
        else:
            found.append(FoundReport(path, None))
    unique = list({_identity(f.path): f for f in found}.values())
    if not unique:
        raise UsageError(f"no {REPORT_NAME} found in {', '.join(map(shown, paths))}")
    return unique


def _identity(path: Path) -> Path:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling or looping symlink: it is its own report
        return path.absolute()


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def read_report_bytes(report: FoundReport, limit: int = MAX_REPORT_BYTES) -> tuple[bytes | None, str | None]:
    """The file's bytes, or None and why it was not read. Never blocks, never reads past `limit`."""
    try:
        target = report.path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, "cannot read: a dangling or looping symlink" if report.path.is_symlink() else "cannot read"
    if report.folder is not None and not target.is_relative_to(report.folder.resolve()):
        return None, f"a symlink leading outside {shown(report.folder)} (to {shown(target)}); not read"
    try:
        info = os.lstat(target)
        if not stat.S_ISREG(info.st_mode):
            return None, f"{_kind(info.st_mode)}, not a regular file; not read"
        # O_NONBLOCK and O_NOFOLLOW: if the file was swapped for a FIFO or a symlink since lstat,
        # the open neither blocks nor follows; fstat below then refuses it.
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        return None, f"cannot read: {err.strerror}"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, f"{_kind(info.st_mode)}, not a regular file; not read"
        data = fh.read(limit + 1) if info.st_size <= limit else b""
    if info.st_size > limit or len(data) > limit:
        return None, f"larger than {limit} bytes, the most a report can be; not read"
    return data, None
