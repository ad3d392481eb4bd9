"""The host backend's parts that need no root: its facts about a seat come from the seat id alone
(nothing of them in the registry), the plan refuses clashing user names, a seat never made polls as
absent, and a registry written before the backend seam still loads."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from dselab.classroom import registry
from dselab.classroom.backend import SeatBackend
from dselab.classroom.backends import open_backend
from dselab.classroom.host.backend import HostBackend
from dselab.classroom.layout import Layout, folder_name
from dselab.classroom.registry import Seat
from dselab.errors import UsageError


@pytest.fixture
def backend(tmp_path: Path) -> HostBackend:
    return HostBackend(Layout(tmp_path / "room"))


def test_the_host_backend_is_the_default_and_a_seat_backend(tmp_path: Path) -> None:
    chosen: SeatBackend = open_backend(Layout(tmp_path))
    assert isinstance(chosen, HostBackend) and chosen.layout == Layout(tmp_path)


def test_user_namespace_and_home_follow_from_the_seat_id(backend: HostBackend) -> None:
    seat = backend.seat(Seat.planned(backend.layout, "Bob.B"))
    assert seat.user.startswith("dsl-bob-b-") and seat.netns == "dselab-" + seat.user[4:]
    assert seat.home == backend.layout.seats / seat.user and seat.observer == "dso-" + seat.user[4:]
    assert seat.store_dir == backend.layout.server / "stores" / folder_name("Bob.B")
    assert set(registry.Seat.__dataclass_fields__) == {"id", "store_dir", "created_at"}


def test_the_plan_refuses_two_students_on_one_user(backend: HostBackend) -> None:
    digest = hashlib.sha256(b"Bob.B").hexdigest()[:8]
    seats = [Seat.planned(backend.layout, sid) for sid in ("Bob.B", f"bob-b-{digest}")]
    with pytest.raises(UsageError, match="map to the same user"):
        backend.plan(seats, known=set())
    backend.plan(seats[:1], known=set())


def test_a_seat_never_made_is_absent(backend: HostBackend) -> None:
    poll = backend.poll(Seat.planned(backend.layout, "nobody-here"))
    assert not poll.present and not poll.running and poll.note == "no namespace (seat not up)"
    assert poll.facts["user"] == "dsl-nobody-here" and poll.facts["netns"] == "dselab-nobody-here"


def test_exec_and_the_terminal_run_as_the_seat(backend: HostBackend) -> None:
    seat = Seat.planned(backend.layout, "alice")
    shell, command = backend.shell(seat), backend.shell(seat, ["id", "-u"])
    assert shell.argv[-2:] == ("bash", "-l") and command.argv[-2:] == ("id", "-u")
    assert "runuser" in command.argv and "dsl-alice" in command.argv and command.cwd == shell.cwd


def test_a_registry_from_before_the_seam_still_loads(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.server.mkdir(parents=True)
    layout.registry.write_text(json.dumps([{"id": "alice", "user": "dsl-alice", "netns": "dselab-alice",
                                            "home": str(layout.seats / "dsl-alice"),
                                            "store_dir": str(layout.server / "stores" / "dsl-alice"),
                                            "created_at": 1.5}]))
    assert registry.load(layout) == {"alice": Seat("alice", layout.server / "stores" / "dsl-alice", 1.5)}
    registry.save(layout, registry.load(layout))
    assert json.loads(layout.registry.read_text()) == [
        {"id": "alice", "store_dir": str(layout.server / "stores" / "dsl-alice"), "created_at": 1.5}]


def test_a_purge_keeps_a_shared_template_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With DSELAB_CLASSROOM_TEMPLATES other classrooms may be using the builder's template: a purge
    says where it stays and how to remove it; `--templates` removes it. A classroom's own always goes."""
    from dselab.classroom.host import backend as host_backend
    from dselab.settings import ClassroomSettings, current

    removed: list[Path] = []
    monkeypatch.setattr(host_backend.seat_template, "remove", lambda layout: removed.append(layout.builder_home))
    shared = HostBackend(Layout(tmp_path / "room", current().replace(
        classroom=ClassroomSettings(templates=tmp_path / "seat-templates"))))
    said: list[str] = []
    shared.teardown(said.append)
    assert removed == [] and "kept in " + str(tmp_path / "seat-templates") in said[0] and "--templates" in said[0]
    shared.teardown(said.append, templates=True)
    assert removed == [tmp_path / "seat-templates"] and said[-1] == "template builder removed with the shared template"
    HostBackend(Layout(tmp_path / "own")).teardown(said.append)
    assert removed[-1] == tmp_path / "own" / "template" and said[-1] == "template builder removed"
