"""The grader (root) refuses seat paths that lead out of the seat's home, and reads the seat's own
store only from a regular file the seat user owns, never through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dselab.classroom.confine import check_seat_paths, read_seat_store
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.errors import EnvironmentProblem
from dselab.state import StateStore


@pytest.fixture
def seat(tmp_path: Path) -> Seat:
    seat = Seat.planned(Layout(tmp_path / "room"), "bob")
    (seat.cluster_home / "clusters" / "lab" / "dse-seed" / "logs").mkdir(parents=True)
    return seat


def test_a_seat_with_its_own_folders_is_graded(seat: Seat) -> None:
    check_seat_paths(seat)


@pytest.mark.parametrize("link", [".dselab/clusters/lab/dse-seed/data", ".dselab/clusters/lab/dse-node-1",
                                  ".dselab/clusters/lab/dse-seed/logs/debug.log", ".dselab/state-local.sqlite"])
def test_a_link_leading_out_of_the_home_is_refused(seat: Seat, tmp_path: Path, link: str) -> None:
    elsewhere = tmp_path / "other-seat" / "secret"
    elsewhere.mkdir(parents=True)
    (seat.home / link).symlink_to(elsewhere)
    with pytest.raises(EnvironmentProblem, match="leads outside the seat's home"):
        check_seat_paths(seat)


def test_the_cluster_home_itself_as_a_link_is_refused(tmp_path: Path) -> None:
    seat = Seat.planned(Layout(tmp_path / "room"), "eve")
    seat.home.mkdir(parents=True)
    (tmp_path / "server-store").mkdir()
    seat.cluster_home.symlink_to(tmp_path / "server-store")
    with pytest.raises(EnvironmentProblem, match="leads outside"):
        check_seat_paths(seat)


def test_seat_store_is_read_into_memory_only_from_the_owners_regular_file(seat: Seat, tmp_path: Path) -> None:
    store = StateStore(seat.cluster_home / "state-local.sqlite")
    store.put("lab:05-backup-restore:answer:list", "1 KiB")
    store.close()
    db = read_seat_store(seat, os.getuid())
    assert db is not None and db.execute("SELECT count(*) FROM kv").fetchone() == (1,)
    db.close()
    assert read_seat_store(seat, os.getuid() + 12345) is None  # someone else's file
    real = tmp_path / "elsewhere.sqlite"
    (seat.cluster_home / "state-local.sqlite").rename(real)
    (seat.cluster_home / "state-local.sqlite").symlink_to(real)
    assert read_seat_store(seat, os.getuid()) is None  # a link is never followed
