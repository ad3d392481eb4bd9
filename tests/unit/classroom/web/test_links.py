"""The server's link state (server/links.json): made once per classroom, rotated per seat, written
atomically, and seen by a running server at its next request."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from dselab.classroom.layout import Layout
from dselab.classroom.web import links
from dselab.classroom.web.links import LinkState, LiveLinks
from dselab.errors import EnvironmentProblem


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "room")
    layout.server.mkdir(parents=True, mode=0o700)
    return layout


def test_the_first_ensure_makes_the_classroom_id_and_later_ones_keep_it(layout: Layout) -> None:
    first = links.ensure(layout, ["alice"])
    assert stat.S_IMODE(layout.links_file.stat().st_mode) == 0o600
    again = links.ensure(layout, ["alice", "bob"])
    assert again.classroom == first.classroom and again.instructor == first.instructor
    assert again.seats["alice"] == first.seats["alice"] and "bob" in again.seats
    assert links.read(layout.links_file) == again
    assert sorted(p.name for p in layout.server.iterdir()) == [".links.lock", "links.json"], "no temporary left"


def test_rotate_changes_the_named_seats_only(layout: Layout) -> None:
    before = links.ensure(layout, ["alice", "bob", "carol"])
    after = links.rotate(layout, ["alice", "carol"])
    assert after.seats["alice"] != before.seats["alice"] and after.seats["carol"] != before.seats["carol"]
    assert after.seats["bob"] == before.seats["bob"]
    assert (after.classroom, after.instructor) == (before.classroom, before.instructor)
    assert links.rotate_instructor(layout).instructor != before.instructor


def test_concurrent_rotations_lose_nothing(layout: Layout) -> None:
    seats = [f"s{i}" for i in range(8)]
    before = links.ensure(layout, seats)
    threads = [threading.Thread(target=links.rotate, args=(layout, [seat])) for seat in seats]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = links.read(layout.links_file)
    assert after is not None and all(after.seats[s] != before.seats[s] for s in seats)


def test_a_running_server_sees_a_rotation_at_its_next_look(layout: Layout) -> None:
    live = LiveLinks(layout.links_file)
    links.ensure(layout, ["alice", "bob"])
    seen = live.current()
    assert live.current() is seen, "unchanged bytes: not parsed again"
    rotated = links.rotate(layout, ["alice"])
    assert live.current() == rotated


def test_without_a_readable_state_nothing_matches(layout: Layout) -> None:
    """A removed or damaged file: the server fails closed (a classroom no link belongs to)."""
    live = LiveLinks(layout.links_file)
    state = links.ensure(layout, ["alice"])
    layout.links_file.unlink()
    gone = live.current()
    assert gone.classroom != state.classroom and not gone.seats
    layout.links_file.write_text('{"classroom": "x"}')
    damaged = live.current()
    assert damaged.classroom != state.classroom and not damaged.seats


@pytest.mark.parametrize("text", ["not json", "[]", '{"classroom": "ab", "instructor": "cd", "seats": {}}',
                                  '{"classroom": "' + "a" * 32 + '", "instructor": "' + "b" * 32 + '", "seats": []}'])
def test_a_damaged_file_is_one_error_with_its_fix(layout: Layout, text: str) -> None:
    layout.links_file.write_text(text)
    with pytest.raises(EnvironmentProblem, match="is damaged") as err:
        links.ensure(layout, ["alice"])
    assert "remove it and run `dselab classroom links`" in err.value.one_line()


def test_a_state_round_trips_and_cannot_be_changed_in_place() -> None:
    state = LinkState.new(["alice"])
    with pytest.raises(TypeError):
        state.seats["alice"] = "0" * 32  # type: ignore[index]
    assert state.with_seats(["alice"]) is state
