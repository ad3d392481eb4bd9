"""`classroom links --expires WHEN`: durations from now, or a time; never in the past."""

from __future__ import annotations

from datetime import datetime

import pytest

from dselab.classroom.web.expiry import parse_expiry, shown
from dselab.errors import UsageError

NOW = 2_000_000_000.0


@pytest.mark.parametrize(("text", "seconds"), [("8h", 8 * 3600), ("90m", 90 * 60), ("3d", 3 * 86400),
                                               ("2w", 14 * 86400), (" 12 H ", 12 * 3600)])
def test_a_duration_counts_from_now(text: str, seconds: int) -> None:
    assert parse_expiry(text, NOW) == int(NOW) + seconds


def test_a_time_without_a_zone_is_local_and_one_with_a_zone_is_its_own() -> None:
    local = datetime(2033, 6, 1, 18, 0)
    assert parse_expiry("2033-06-01T18:00", NOW) == int(local.timestamp())
    assert parse_expiry("2033-06-01 18:00+00:00", NOW) == int(datetime.fromisoformat("2033-06-01T18:00+00:00").timestamp())
    assert shown(int(local.timestamp())).startswith("2033-06-01 18:00")


@pytest.mark.parametrize(("text", "why"), [("soon", "neither a duration nor a time"), ("8x", "neither"),
                                           ("-8h", "neither"), ("0h", "not in the future"),
                                           ("2020-01-01T00:00", "not in the future")])
def test_anything_else_is_refused_with_examples(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=why) as err:
        parse_expiry(text, NOW)
    assert "--expires 8h" in err.value.one_line()
