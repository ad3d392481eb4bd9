"""The grader runs as root on files a seat user controls: before it reads any, every folder and file
it will open by name must lie inside the seat's own home. A symlink from a seat to another seat's
cluster or to the server's store would otherwise make root read them on the seat's behalf.

Data files below a node's data folder are confined by the runtime itself (paths are resolved and
must stay inside that folder). What remains is a race: a seat swapping a checked folder for a link
while its check runs; see README "What it does not protect against".
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

from dselab.classroom.registry import Seat
from dselab.errors import EnvironmentProblem

NODE_PARTS = ("conf", "data", "logs", "cassandra.pid", "logs/system.log", "logs/debug.log")
MAX_SEAT_STORE_BYTES = 16 << 20


def _paths(seat: Seat) -> Iterator[Path]:
    home = seat.cluster_home
    yield from (home, home / "clusters", home / "state-local.sqlite")
    for cluster in ("lab", "restore"):
        root = home / "clusters" / cluster
        yield root
        if root.is_dir() and not root.is_symlink():
            for node in root.iterdir():
                yield node
                yield from (node / part for part in NODE_PARTS)


def check_seat_paths(seat: Seat) -> None:
    """Raise when any path the grader opens by name leads outside the seat's home."""
    home = seat.home.resolve()
    for path in _paths(seat):
        if not (path.exists() or path.is_symlink()):
            continue
        real = path.resolve()
        if real != home and home not in real.parents:
            raise EnvironmentProblem(f"seat {seat.id}: {path} leads outside the seat's home (to {real}); "
                                     "not graded", fix="remove the link in the seat, or reset the seat")


def read_seat_store(seat: Seat, uid: int) -> sqlite3.Connection | None:
    """The seat's own store, read into memory from a file the seat user owns (no link followed),
    or None. Never opened in place: root must not write or follow anything the seat prepared."""
    try:
        fd = os.open(seat.cluster_home / "state-local.sqlite", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if info.st_uid != uid or not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SEAT_STORE_BYTES:
            return None
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(MAX_SEAT_STORE_BYTES + 1)
    finally:
        os.close(fd)
    try:
        db = sqlite3.connect(":memory:")
        db.deserialize(data)
        return db
    except sqlite3.Error:
        return None
