"""Roster parsing: ids in order, comments skipped, every bad line and duplicate reported at once."""

from __future__ import annotations

import pytest

from dselab.classroom.roster import numbered_seats, parse_roster, read_roster
from dselab.errors import UsageError


def test_roster_keeps_order_and_skips_blank_lines_and_comments() -> None:
    assert parse_roster("alice\n\n# the back row\nBob.B  # late joiner\ncarol_3\n") == ["alice", "Bob.B", "carol_3"]


def test_every_bad_line_and_duplicate_is_named_with_its_number_in_one_error() -> None:
    with pytest.raises(UsageError) as err:
        parse_roster("alice\nbad id!\nbob\nalice\n" + "x" * 65 + "\n", "class.txt")
    message = err.value.one_line()
    assert "class.txt: 3 bad line(s)" in message
    assert "line 2: 'bad id!' is not a student id" in message
    assert "line 4: duplicate id 'alice' (first on line 1)" in message
    assert "line 5:" in message
    assert "\n" not in message


def test_empty_roster_is_refused() -> None:
    with pytest.raises(UsageError, match="names no student"):
        parse_roster("# nobody yet\n\n")


def test_unreadable_roster_is_one_line(tmp_path) -> None:
    with pytest.raises(UsageError, match="cannot read roster"):
        read_roster(tmp_path / "missing.txt")


def test_numbered_seats_are_zero_padded_and_bounded() -> None:
    assert numbered_seats(3) == ["seat01", "seat02", "seat03"]
    assert numbered_seats(120)[-1] == "seat120"
    for bad in (0, -1, 1000):
        with pytest.raises(UsageError, match="--seats must be"):
            numbered_seats(bad)
