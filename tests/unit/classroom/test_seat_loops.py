"""One seat's failure is its own: every loop over seats (health refresh, status, lifecycle) survives
any exception from one seat, shows that seat as errored and goes on (a symlink loop in a seat made
Path.resolve raise RuntimeError, which froze the grid's health for the whole class)."""

from __future__ import annotations

import time
from pathlib import Path

from fake_backend import FakeBackend

from dselab.cached import Refreshed
from dselab.classroom import lifecycle, status
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat


def _seats(tmp_path: Path) -> list[Seat]:
    layout = Layout(tmp_path / "room")
    return [Seat.planned(layout, sid) for sid in ("alice", "mallory", "victim")]


def test_lifecycle_work_on_every_seat_goes_on_past_any_exception(tmp_path: Path) -> None:
    said: list[str] = []

    def work(seat: Seat) -> str:
        if seat.id == "mallory":
            raise RuntimeError("Symlink loop from '/seats/dsl-mallory/.dselab/clusters/lab/loop'")
        return "up"

    outcomes = lifecycle._each(_seats(tmp_path), work, said.append)
    assert [(o.seat, o.ok) for o in outcomes] == [("alice", True), ("mallory", False), ("victim", True)]
    assert any(line.startswith("mallory: FAILED: unexpected RuntimeError: Symlink loop") for line in said)


def test_status_shows_a_failing_seat_as_errored(tmp_path: Path) -> None:
    backend = FakeBackend(Layout(tmp_path / "room"))
    backend.broken["mallory"] = RuntimeError("Symlink loop")
    backend.broken_ops.add("poll")
    rows = [status.safe_seat_status(backend, seat) for seat in _seats(tmp_path)]
    assert [r.note for r in rows] == ["no such fake seat", "status failed: unexpected RuntimeError: Symlink loop",
                                      "no such fake seat"]
    assert set(rows[1].nodes.values()) == {"?"}


def test_the_background_health_refresh_outlives_a_failure() -> None:
    calls: list[int] = []

    def compute() -> dict[str, str]:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("Symlink loop")
        return {"n": str(len(calls))}

    refreshed = Refreshed(compute, ttl=0.0, initial={})
    values = []
    for _ in range(60):
        values.append(refreshed.get())
        time.sleep(0.02)
        if len(calls) >= 3:
            break
    assert len(calls) >= 3  # it ran again after the failure
    time.sleep(0.05)
    assert refreshed.get() in ({"n": "3"}, {"n": "4"}, {"n": "5"})
