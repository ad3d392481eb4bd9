"""A seat's commands: its user, its namespace, its environment and nothing of the server's."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab.classroom import registry
from dselab.classroom.host.seats import HostSeat, seat_argv, seat_env, shell_argv, shell_spec
from dselab.classroom.host.toolchain import Toolchain
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat


@pytest.fixture
def seat(tmp_path: Path) -> HostSeat:
    return HostSeat.of(Layout(tmp_path), Seat.planned(Layout(tmp_path), "Bob.B"))


def test_seat_environment_is_built_from_nothing(seat: HostSeat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSELAB_COURSE_KEY", "server-secret")
    monkeypatch.setenv("DSELAB_LOOPBACK", "127.0.57")
    env = seat_env(seat, Toolchain(venv=tmp_path / "venv", cache=tmp_path / "cache"))
    assert "DSELAB_COURSE_KEY" not in env
    assert env["DSELAB_LOOPBACK"] == "127.0.55" and env["DSELAB_JMX_BASE"] == "7155"  # the lab's own, per namespace
    assert env["HOME"] == str(seat.home) and env["DSELAB_HOME"] == str(seat.home / ".dselab")
    assert env["PATH"].startswith(str(tmp_path / "venv" / "bin"))
    assert env["DSELAB_NODE_PROFILE"] == "small"
    assert env["DSELAB_TEMPLATE"] == "0" and "DSELAB_TEMPLATE_DIR" not in env  # the server runs without one


def test_a_seat_reads_the_class_template_and_makes_none_of_its_own(seat: HostSeat, tmp_path: Path) -> None:
    tools = Toolchain(venv=tmp_path / "venv", cache=tmp_path / "cache", templates=tmp_path / "template" / "templates")
    env = seat_env(seat, tools)
    assert env["DSELAB_TEMPLATE"] == "1"
    assert env["DSELAB_TEMPLATE_DIR"] == str(tmp_path / "template" / "templates")  # the builder's, not the seat's


def test_the_template_builder_is_a_user_of_its_own_per_classroom(tmp_path: Path) -> None:
    from dselab.classroom.host import seat_template, users

    layout = Layout(tmp_path / "room")
    maker = seat_template.builder(layout)
    assert maker.user == users.builder_name(layout.builder_home) and maker.user.startswith("dst-")
    assert len(maker.user) <= 32 and not maker.user.startswith(users.PREFIX)  # no student id makes this name
    assert seat_template.builder(Layout(tmp_path / "other-room")).user != maker.user
    assert maker.home == layout.builder_home == layout.root / "template" and layout.templates.parent == maker.home
    assert not layout.shared_template


def test_classrooms_naming_one_template_folder_share_its_builder(tmp_path: Path) -> None:
    """DSELAB_CLASSROOM_TEMPLATES: the next class finds the template made (one builder per folder)."""
    from dselab.classroom.host import seat_template
    from dselab.settings import ClassroomSettings, current

    shared = current().replace(classroom=ClassroomSettings(templates=tmp_path / "seat-templates"))
    one, two = Layout(tmp_path / "room-1", shared), Layout(tmp_path / "room-2", shared)
    assert one.shared_template and one.builder_home == two.builder_home == tmp_path / "seat-templates"
    assert one.templates == two.templates == tmp_path / "seat-templates" / "templates"
    assert seat_template.builder(one).user == seat_template.builder(two).user
    assert seat_template.builder(Layout(tmp_path / "room-1")).user != seat_template.builder(one).user


def test_seat_commands_run_in_its_namespace_as_its_user(seat: HostSeat, tmp_path: Path) -> None:
    toolchain = Toolchain(venv=tmp_path / "venv", cache=tmp_path / "cache")
    argv = seat_argv(seat, toolchain, ["./scripts/nodetool.sh", "status"])
    assert "dselab.classroom.host.seat_enter" in argv[:4]  # under the seat's limits (test_limits.py)
    argv = argv[argv.index("--") + 1:]
    assert argv[:4] == ["ip", "netns", "exec", seat.netns]
    assert argv[4:8] == ["runuser", "-u", seat.user, "--"]
    assert argv[8:10] == ["env", "-i"] and argv[-2:] == ["./scripts/nodetool.sh", "status"]
    assert shell_argv(seat, toolchain)[-2:] == ["bash", "-l"]
    spec = shell_spec(seat, toolchain)  # what the classroom web server's terminal runs
    assert spec.argv == tuple(shell_argv(seat, toolchain)) and spec.cwd == seat.home
    assert "/usr/sbin" in spec.env["PATH"] and "DSELAB_HOME" not in spec.env


def test_registry_round_trips_and_is_closed_to_others(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "room")
    layout.server.mkdir(parents=True)
    seats = {sid: Seat.planned(layout, sid) for sid in ("alice", "Bob.B")}
    registry.save(layout, seats)
    assert registry.load(layout) == seats
    assert layout.registry.stat().st_mode & 0o777 == 0o600
    with pytest.raises(Exception, match="unknown seat 'carol'; the seats are: alice, Bob.B"):
        registry.get(layout, "carol")
