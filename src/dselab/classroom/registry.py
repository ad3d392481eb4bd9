"""The server's list of seats, kept in its 0700 folder: what of a seat is the classroom's (its id, when
it was made, the server's store for it). Where a seat lives (a Unix user, a namespace...) is its
backend's to know (classroom.backend); rows written before the seam carried those too, and are read
without them."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from dselab.classroom.layout import Layout
from dselab.errors import UsageError
from dselab.state import StateStore


@dataclass(frozen=True)
class Seat:
    id: str  # the student id
    store_dir: Path  # the server's store for this seat (never the seat's)
    created_at: float = 0.0

    @classmethod
    def planned(cls, layout: Layout, student_id: str) -> Seat:
        return cls(id=student_id, store_dir=layout.seat_store(student_id), created_at=time.time())

    def server_store(self) -> StateStore:
        return StateStore(self.store_dir / "state-local.sqlite")


def load(layout: Layout) -> dict[str, Seat]:
    if not layout.registry.exists():
        return {}
    rows = json.loads(layout.registry.read_text())
    return {r["id"]: Seat(id=r["id"], store_dir=Path(r["store_dir"]), created_at=r.get("created_at", 0.0))
            for r in rows}


def save(layout: Layout, seats: dict[str, Seat]) -> None:
    rows = [{**asdict(s), "store_dir": str(s.store_dir)} for s in seats.values()]
    tmp = layout.registry.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(rows, fh, indent=1)
    tmp.replace(layout.registry)


def get(layout: Layout, seat_id: str) -> Seat:
    seats = load(layout)
    if seat_id in seats:
        return seats[seat_id]
    known = ", ".join(list(seats)[:10]) + (" ..." if len(seats) > 10 else "")
    raise UsageError(f"unknown seat {seat_id!r}; " + (f"the seats are: {known}" if seats else "the classroom has no seats"),
                     fix="`dselab classroom status` lists them")
