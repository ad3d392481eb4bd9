"""The classroom's lifecycle (up, down, purge, reset), status and checks over several seats, on the
fake backend: no root, no users, no namespaces, no clusters. One seat's failure stays that seat's."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_backend import FakeBackend

from dselab.classroom import lifecycle, recording, registry, status
from dselab.classroom.layout import Layout
from dselab.classroom.observation import MalformedObservation
from dselab.errors import EnvironmentProblem, UsageError

LAB = "05-backup-restore"
SEATS = ("alice", "Bob.B", "carol")
KEY = b"test course key 0123456789abcdef"


@pytest.fixture
def backend(tmp_path: Path) -> FakeBackend:
    return FakeBackend(Layout(tmp_path / "room"))


def _up(backend: FakeBackend, seats: tuple[str, ...] = SEATS, key: Path | None = None) -> tuple[list[str], list]:
    said: list[str] = []
    outcomes = lifecycle.up(list(seats), str(key) if key else None, said.append, "05", backend)
    return said, outcomes


def test_up_creates_and_starts_every_seat_and_records_a_baseline(backend: FakeBackend, tmp_path: Path) -> None:
    key_file = tmp_path / "course.key"
    key_file.write_bytes(KEY + b"\n")
    said, outcomes = _up(backend, key=key_file)
    assert [(o.seat, o.ok, o.detail) for o in outcomes] == [(s, True, "up") for s in SEATS]
    known = registry.load(backend.layout)
    assert list(known) == list(SEATS)
    assert all(backend.poll(seat).running and recording.has_baseline(seat, "05") for seat in known.values())
    assert all(seat.store_dir.is_dir() and seat.store_dir.stat().st_mode & 0o777 == 0o700 for seat in known.values())
    assert backend.layout.key_file.read_bytes() == KEY + b"\n" and backend.layout.key_file.stat().st_mode & 0o777 == 0o600
    assert backend.layout.links_file.exists()  # the join links are bound to this classroom
    assert "alice: lab 05 started (baseline recorded by the server)" in said
    assert len({s.store_dir for s in known.values()}) == 3 and known["Bob.B"].store_dir.name != "Bob.B"


def test_a_second_up_leaves_running_seats_alone(backend: FakeBackend) -> None:
    _up(backend)
    said, outcomes = _up(backend)
    assert [o.detail for o in outcomes] == ["running"] * 3
    assert sorted(backend.ops("start")) == sorted(SEATS)  # started once each, in the first `up`
    assert "carol: already running" in said


def test_one_seat_failing_to_start_does_not_stop_the_others(backend: FakeBackend) -> None:
    backend.broken["Bob.B"] = EnvironmentProblem("`dselab up` failed (exit 1): no memory")
    said, outcomes = _up(backend)
    assert [(o.seat, o.ok) for o in outcomes] == [("alice", True), ("Bob.B", False), ("carol", True)]
    assert any(line.startswith("Bob.B: FAILED: ") and "no memory" in line for line in said)
    assert list(registry.load(backend.layout)) == list(SEATS)  # kept: the next `up` tries it again
    del backend.broken["Bob.B"]
    assert [o.detail for o in _up(backend)[1]] == ["running", "up", "running"]


def test_an_unexpected_exception_is_that_seats_failure(backend: FakeBackend) -> None:
    backend.broken["alice"] = RuntimeError("Symlink loop")
    outcomes = _up(backend)[1]
    assert [o.ok for o in outcomes] == [False, True, True]
    assert outcomes[0].detail == "unexpected RuntimeError: Symlink loop"


def test_up_refuses_before_any_side_effect(backend: FakeBackend, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no seats yet"):
        _up(backend, ())
    with pytest.raises(Exception, match="key"):
        _up(backend, key=tmp_path / "missing.key")
    small = FakeBackend(backend.layout, capacity_seats=2)
    with pytest.raises(EnvironmentProblem, match="do not fit"):
        _up(small)
    assert not backend.layout.root.exists() and {op for op, _ in small.calls} == {"poll"}  # nothing made


def test_down_stops_every_seat_keeping_its_data(backend: FakeBackend) -> None:
    _up(backend)
    backend.broken["alice"] = EnvironmentProblem("`dselab down` failed")
    said: list[str] = []
    outcomes = lifecycle.down(False, said.append, backend)
    assert [(o.seat, o.ok) for o in outcomes] == [("alice", False), ("Bob.B", True), ("carol", True)]
    known = registry.load(backend.layout)
    assert [backend.poll(s).running for s in known.values()] == [True, False, False]
    assert all(recording.has_baseline(s, "05") for s in known.values())  # data kept
    assert "carol: stopped (data kept)" in said


def test_purge_removes_everything_but_a_seat_that_failed(backend: FakeBackend) -> None:
    _up(backend)
    backend.broken["carol"] = EnvironmentProblem("busy")
    said: list[str] = []
    outcomes = lifecycle.down(True, said.append, backend)
    assert [o.ok for o in outcomes] == [True, True, False]
    assert list(registry.load(backend.layout)) == ["carol"]  # the next purge tries it again
    assert set(backend.seats) == {"carol"} and any(line.startswith("alice: removed (folder ") for line in said)
    assert not backend.torn_down  # what the seats share stays while a seat is left
    del backend.broken["carol"]
    lifecycle.down(True, said.append, backend)
    assert not backend.layout.root.exists() and not backend.seats
    assert backend.torn_down  # the backend's shared parts (the host's template builder) go last
    assert not backend.templates_removed  # a template shared with other classrooms only on request


def test_purge_with_templates_asks_the_backend_to_remove_what_classrooms_share(backend: FakeBackend) -> None:
    _up(backend)
    lifecycle.down(True, [].append, backend, templates=True)
    assert backend.torn_down and backend.templates_removed


def test_reset_gives_one_seat_a_fresh_run(backend: FakeBackend) -> None:
    _up(backend)
    seat = registry.get(backend.layout, "alice")
    backend.passing.add(("alice", "snapshot"))
    recording.check_seat("alice", "05", ["snapshot"], backend)
    before = _baseline(seat)
    said: list[str] = []
    lifecycle.reset("alice", said.append, "05", backend)
    assert backend.ops("wipe") == ["alice"] and backend.poll(seat).running
    assert _baseline(seat) > before and _attempts(seat) == []
    assert _attempts(registry.get(backend.layout, "Bob.B")) == []  # the others untouched
    assert said[-1] == "alice: reset done; lab 05 started afresh"
    with pytest.raises(UsageError, match="unknown seat 'dave'"):
        lifecycle.reset("dave", said.append, "05", backend)


def test_status_shows_nodes_progress_and_a_failing_seat_as_errored(backend: FakeBackend) -> None:
    _up(backend)
    backend.passing.add(("alice", "snapshot"))
    recording.check_seat("alice", "05", ["snapshot", "list"], backend)
    backend.stop(registry.get(backend.layout, "Bob.B"))
    backend.broken["carol"] = RuntimeError("Symlink loop")
    backend.broken_ops.add("poll")
    rows = {r.seat: r for r in status.classroom_status(backend)}
    assert rows["alice"].nodes == {"dse-seed": "UN", "dse-node-1": "UN", "dse-node-2": "UN"}
    assert rows["alice"].passed == {LAB: [1]} and rows["alice"].home.endswith("fake-seats/alice")
    assert set(rows["Bob.B"].nodes.values()) == {"down"} and rows["Bob.B"].note == ""
    assert rows["carol"].note == "status failed: unexpected RuntimeError: Symlink loop"
    assert set(rows["carol"].nodes.values()) == {"?"}


def test_checks_are_observed_validated_and_recorded(backend: FakeBackend) -> None:
    _up(backend)
    backend.passing.add(("alice", "snapshot"))
    results = recording.check_seat("alice", "05", ["snapshot", "list"], backend)
    assert [(r.step, r.status) for r in results] == [("snapshot", "pass"), ("list", "fail")]
    request = backend.requests[-1][1]
    assert request["op"] == "check" and request["steps"] == ["snapshot", "list"] and request["baseline"]
    assert [a["status"] for a in _attempts(registry.get(backend.layout, "alice"))] == ["pass", "fail"]


def test_a_malformed_observation_records_nothing(backend: FakeBackend) -> None:
    _up(backend)
    backend.raw["alice"] = b'{"results": [{"id": "list", "status": "pass"}]}\n'
    with pytest.raises(MalformedObservation):
        recording.check_seat("alice", "05", ["snapshot"], backend)
    backend.raw["alice"] = b'{"error": "no cluster here"}\n'
    with pytest.raises(EnvironmentProblem, match="seat alice: no cluster here"):
        recording.check_seat("alice", "05", ["snapshot"], backend)
    backend.raw["alice"] = b"Traceback (most recent call last):\n"
    with pytest.raises(EnvironmentProblem, match="the observer failed"):
        recording.check_seat("alice", "05", ["snapshot"], backend)
    assert _attempts(registry.get(backend.layout, "alice")) == []


def test_a_seat_runs_its_own_shell(backend: FakeBackend, tmp_path: Path) -> None:
    import subprocess

    _up(backend)
    spec = backend.shell(registry.get(backend.layout, "alice"), ["sh", "-c", "pwd"])
    out = subprocess.run(list(spec.argv), cwd=spec.cwd, env=dict(spec.env), capture_output=True, text=True)
    assert out.stdout.strip() == str(backend.folder / "alice")


def _baseline(seat: registry.Seat) -> float:
    store = seat.server_store()
    try:
        return store.run_started_at(LAB)
    finally:
        store.close()


def _attempts(seat: registry.Seat) -> list[dict]:
    store = seat.server_store()
    try:
        return store.attempt_summaries(LAB)
    finally:
        store.close()
