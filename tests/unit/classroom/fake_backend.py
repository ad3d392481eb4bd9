"""A fake seat backend for the classroom tests: in-process seats that need no root.

A seat is a folder under <classroom root>/fake-seats/; start and stop flip a flag; the observer's
answers are canned observations of the shape classroom.observer prints (valid unless a test plants raw
output), so the server's side (observation, recording, status, grading) runs exactly as it does for
the host backend. A shell is /bin/sh as the current user in the seat's folder. Any operation on a
seat can be made to fail, to show that one seat's failure stays that seat's.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dselab.classroom.backend import Lines, Observed, SeatBackend, SeatPoll
from dselab.classroom.capacity import Plan
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.web.terminal import ShellSpec
from dselab.errors import EnvironmentProblem
from dselab.runtime.base import LAB_NODES

CASSANDRA_VERSION = "5.0.9"
OPERATIONS = ("create", "start", "stop", "poll", "wipe", "remove", "observe")


@dataclass
class FakeSeat:
    home: Path
    running: bool = False


class FakeBackend:
    """Seats as folders; see the module's docstring. `passing` holds (seat id, step id) pairs whose
    check passes (every other step fails); `broken[seat id]` is raised by that seat's operations
    named in `broken_ops`; `raw[seat id]` is printed by that seat's observer instead of an answer."""

    name = "fake"

    def __init__(self, layout: Layout, capacity_seats: int = 100) -> None:
        self.layout = layout
        self.capacity_seats = capacity_seats
        self.seats: dict[str, FakeSeat] = {}
        self.passing: set[tuple[str, str]] = set()
        self.broken: dict[str, Exception] = {}
        self.broken_ops: set[str] = {"start", "stop", "remove"}
        self.raw: dict[str, bytes] = {}
        self.calls: list[tuple[str, str]] = []  # (operation, seat id), in order
        self.torn_down = False
        self.templates_removed = False
        self.requests: list[tuple[str, dict[str, Any]]] = []  # what each observer was asked
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return self.layout.root / "fake-seats"

    def _op(self, op: str, seat: Seat) -> FakeSeat | None:
        with self._lock:
            self.calls.append((op, seat.id))
        if seat.id in self.broken and op in self.broken_ops:
            raise self.broken[seat.id]
        return self.seats.get(seat.id)

    def ops(self, op: str) -> list[str]:
        """The seats `op` was called for, in order."""
        return [seat_id for name, seat_id in self.calls if name == op]

    # -- the SeatBackend protocol ---------------------------------------------------------------

    def require(self) -> None:
        pass

    def plan(self, seats: Sequence[Seat], known: Collection[str]) -> None:
        pass

    def capacity(self, to_start: int, running: int = 0) -> Plan:
        plan = Plan(to_start, per_seat_mib=1, available_mib=self.capacity_seats, reserve_mib=0)
        if not plan.ok:
            raise EnvironmentProblem(f"{to_start} seat(s) do not fit: this fake holds {plan.fits} more")
        return plan

    def prepare(self, say: Lines) -> None:
        (self.layout.server / "stores").mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        say("fake: nothing shared to prepare")

    def teardown(self, say: Lines, templates: bool = False) -> None:
        self.torn_down = True
        self.templates_removed = templates
        say("fake: nothing shared to remove")

    def create(self, seat: Seat) -> None:
        found = self._op("create", seat)
        if found is None:
            home = self.folder / seat.id
            home.mkdir(parents=True, exist_ok=True)
            self.seats[seat.id] = FakeSeat(home)

    def start(self, seat: Seat, on_line: Lines | None = None) -> None:
        found = self._op("start", seat)
        if found is None:
            raise EnvironmentProblem(f"seat {seat.id} was never created")
        found.running = True
        if on_line:
            on_line("cluster up (fake)")

    def stop(self, seat: Seat, on_line: Lines | None = None) -> None:
        found = self._op("stop", seat)
        if found is not None:
            found.running = False

    def poll(self, seat: Seat) -> SeatPoll:
        found = self._op("poll", seat)
        if found is None:
            return SeatPoll(False, note="no such fake seat")
        return SeatPoll(True, frozenset(LAB_NODES if found.running else ()),
                        {"user": os.environ.get("USER", "me"), "home": str(found.home), "netns": "-"})

    def wipe(self, seat: Seat) -> None:
        found = self._op("wipe", seat)
        if found is not None:
            found.running = False
            shutil.rmtree(found.home, ignore_errors=True)
            found.home.mkdir(parents=True)

    def remove(self, seat: Seat) -> str:
        found = self._op("remove", seat)
        if found is None:
            return "nothing"
        shutil.rmtree(found.home, ignore_errors=True)
        del self.seats[seat.id]
        return f"folder {found.home}"

    def shell(self, seat: Seat, argv: Sequence[str] = ()) -> ShellSpec:
        home = self.folder / seat.id
        command = ("/bin/sh", "-c", 'exec "$@"', "sh", *argv) if argv else ("/bin/sh",)
        return ShellSpec(command, home, {"PATH": "/usr/bin:/bin", "HOME": str(home), "PS1": "$ "})

    def observe(self, seat: Seat, request: dict[str, Any]) -> Observed:
        found = self._op("observe", seat)
        with self._lock:
            self.requests.append((seat.id, request))
        if found is None:
            raise EnvironmentProblem(f"seat {seat.id} is not up", fix="run `dselab classroom up`")
        if seat.id in self.raw:
            return Observed(0, self.raw[seat.id])
        return Observed(0, (json.dumps(self._answer(seat.id, found, request)) + "\n").encode())

    # -- canned observations --------------------------------------------------------------------

    def _answer(self, seat_id: str, seat: FakeSeat, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "baseline":
            return {"log_marks": {node: 0 for node in LAB_NODES}, "cassandra_version": CASSANDRA_VERSION}
        if op == "status":
            return {"nodes": [{"name": node, "state": "UN"} for node in LAB_NODES if seat.running]}
        if op == "check":
            results = [{"id": step, "status": "pass" if (seat_id, step) in self.passing else "fail",
                        "message": "done" if (seat_id, step) in self.passing else "not yet",
                        "hint": "" if (seat_id, step) in self.passing else "run <nodetool> & look",
                        "evidence": [{"node": "dse-seed", "command": "nodetool listsnapshots", "exit": 0,
                                      "stdout": "Snapshot Details:\n<script>lab_backup</script>\n", "stderr": ""}],
                        "seconds": 0.01}
                       for step in request["steps"]]
            return {"results": results, "facts": {}, "seat_answers": {},
                    "cluster": {"cassandra_version": CASSANDRA_VERSION, "nodes": list(LAB_NODES) if seat.running else []}}
        return {"error": f"observer: unknown operation {op!r}"}


def fake_backend(layout: Layout) -> SeatBackend:
    """A FakeBackend, typed as the protocol: the type checker holds the fake to the host's contract."""
    return FakeBackend(layout)
