"""A seat's commands: its user, its namespace, its environment and nothing of the server's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dselab.classroom import checks, registry
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.seats import seat_argv, seat_env, shell_argv, shell_spec
from dselab.classroom.toolchain import Toolchain
from dselab.lab import get_lab
from dselab.state import StateStore


@pytest.fixture
def seat(tmp_path: Path) -> Seat:
    return Seat.planned(Layout(tmp_path), "Bob.B")


def test_seat_environment_is_built_from_nothing(seat: Seat, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSELAB_COURSE_KEY", "server-secret")
    monkeypatch.setenv("DSELAB_LOOPBACK", "127.0.57")
    env = seat_env(seat, Toolchain(venv=tmp_path / "venv", cache=tmp_path / "cache"))
    assert "DSELAB_COURSE_KEY" not in env
    assert env["DSELAB_LOOPBACK"] == "127.0.55" and env["DSELAB_JMX_BASE"] == "7155"  # the lab's own, per namespace
    assert env["HOME"] == str(seat.home) and env["DSELAB_HOME"] == str(seat.home / ".dselab")
    assert env["PATH"].startswith(str(tmp_path / "venv" / "bin"))
    assert env["DSELAB_NODE_PROFILE"] == "small"


def test_seat_commands_run_in_its_namespace_as_its_user(seat: Seat, tmp_path: Path) -> None:
    toolchain = Toolchain(venv=tmp_path / "venv", cache=tmp_path / "cache")
    argv = seat_argv(seat, toolchain, ["./scripts/nodetool.sh", "status"])
    assert "dselab.classroom.seat_enter" in argv[:4]  # under the seat's limits (test_limits.py)
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


def _seat_answer(seat: Seat, value: str) -> None:
    store = StateStore(seat.cluster_home / "state-local.sqlite")
    store.put("lab:05-backup-restore:answer:list", value)
    store.close()


def test_answers_from_the_seat_are_imported_once_and_bad_ones_ignored(seat: Seat) -> None:
    lab = get_lab("05")
    layout = Layout(seat.home.parent.parent)
    _seat_answer(seat, "143.08 KiB")
    assert checks.import_seat_answers(layout, seat, lab, os.getuid()) == ["list"]
    assert checks.import_seat_answers(layout, seat, lab, os.getuid()) == []  # unchanged: nothing new
    server = seat.server_store()
    server.put("lab:05-backup-restore:answer:list", "99 KiB")  # answered on the server (browser)
    assert checks.import_seat_answers(layout, seat, lab, os.getuid()) == []  # the server's answer stays
    _seat_answer(seat, "bad; rm -rf /")
    assert checks.import_seat_answers(layout, seat, lab, os.getuid()) == []
    assert server.get("lab:05-backup-restore:answer:list") == "99 KiB"
    _seat_answer(seat, "150 KiB")  # a new answer in the seat wins
    assert checks.import_seat_answers(layout, seat, lab, os.getuid()) == ["list"]
    assert server.get("lab:05-backup-restore:answer:list") == "150 KiB"
    server.close()


def test_a_seat_file_that_is_no_store_yields_no_answers(seat: Seat) -> None:
    seat.cluster_home.mkdir(parents=True)
    (seat.cluster_home / "state-local.sqlite").write_text("not a database")
    assert checks.import_seat_answers(Layout(seat.home.parent.parent), seat, get_lab("05"), os.getuid()) == []
