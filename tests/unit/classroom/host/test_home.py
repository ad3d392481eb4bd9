"""A seat's home is filled by the seat user itself: a link the student planted never makes root
write outside the home (real user and namespace; root only, as CI runs)."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dselab.classroom.host import namespaces, seats, toolchain, users
from dselab.classroom.host.observe import make_observer
from dselab.classroom.host.seats import HostSeat
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.errors import EnvironmentProblem

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="creates a Unix user and a network namespace")


@pytest.fixture
def seat_and_tools() -> Iterator[tuple[HostSeat, toolchain.Toolchain]]:
    layout = Layout(Path(tempfile.mkdtemp(prefix="dselab-home-test-", dir="/tmp")))
    layout.make_dirs()
    tools = toolchain.Toolchain(venv=layout.toolchain / "venv", cache=layout.toolchain / "cache")
    toolchain.make_home_template(tools.home_template, tools.bin_dir / "dselab")
    seat = HostSeat.of(layout, Seat.planned(layout, "Home.Test"))
    seats.create(seat)
    try:
        yield seat, tools
    finally:
        seats.remove(seat)
        subprocess.run(["rm", "-rf", str(layout.root)], check=True)
    assert users.lookup(seat.user) is None and users.lookup(seat.observer) is None
    assert not namespaces.exists(seat.netns)


def test_home_gets_scripts_lab_data_and_the_toolchain_link(seat_and_tools: tuple[HostSeat, toolchain.Toolchain]) -> None:
    seat, tools = seat_and_tools
    seats.fill_home(seat, tools)
    assert (seat.home / "scripts" / "nodetool.sh").stat().st_mode & 0o111
    assert (seat.home / "labs" / "05-backup-restore" / "data" / "new-rows.cql").is_file()
    assert os.readlink(seat.home / ".venv") == str(tools.venv)
    owner = users.lookup(seat.user)
    assert owner is not None and (seat.home / ".bashrc").stat().st_uid == owner.pw_uid
    home = seat.home.stat()
    assert home.st_mode & 0o777 == 0o750 and home.st_gid == owner.pw_gid  # the seat's group: it and its observer


def test_the_observer_is_its_own_user_in_the_seats_group_only(seat_and_tools: tuple[HostSeat, toolchain.Toolchain]) -> None:
    seat, _ = seat_and_tools
    layout = Layout(seat.home.parent.parent)
    make_observer(layout, seat)
    make_observer(layout, seat)  # idempotent
    observer, owner = users.lookup(seat.observer), users.lookup(seat.user)
    assert observer is not None and owner is not None and observer.pw_uid not in (0, owner.pw_uid)
    groups = subprocess.run(["id", "-Gn", seat.observer], capture_output=True, text=True, check=True).stdout.split()
    assert sorted(groups) == sorted([seat.observer, seat.user]) and observer.pw_shell == "/usr/sbin/nologin"
    assert users.is_seat_user(seat.observer, users.OBSERVER_COMMENT)
    home = layout.observer_home(seat.observer).stat()
    assert home.st_uid == observer.pw_uid and home.st_mode & 0o777 == 0o700


def test_a_planted_link_does_not_make_root_write_outside_the_home(seat_and_tools: tuple[HostSeat, toolchain.Toolchain],
                                                                  tmp_path: Path) -> None:
    seat, tools = seat_and_tools
    victim = tmp_path / "victim"
    victim.write_text("root's file\n")
    plant = f"ln -s {victim} {seat.home}/.bashrc && mkdir -p {seat.home}/x && ln -s /etc {seat.home}/scripts"
    subprocess.run(["runuser", "-u", seat.user, "--", "sh", "-c", plant], check=True)
    with pytest.raises(EnvironmentProblem, match="cannot fill its home"):  # the seat's cp refuses its own mess
        seats.fill_home(seat, tools)
    assert victim.read_text() == "root's file\n"
    assert not Path("/etc/nodetool.sh").exists()
