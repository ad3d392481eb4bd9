"""Capacity arithmetic: seats that fit, and a refusal that says how many."""

from __future__ import annotations

import pytest

from dselab.classroom.capacity import RESERVE_MIB, Plan, available_mib, require
from dselab.errors import EnvironmentProblem


def test_seats_that_fit_leave_the_reserve() -> None:
    assert Plan(0, 1500, 24 * 1024).fits == (24 * 1024 - RESERVE_MIB) // 1500  # 15 on 24 GiB
    assert Plan(0, 1500, RESERVE_MIB).fits == 0
    assert Plan(0, 1500, 100).fits == 0  # never negative


def test_refusal_says_how_many_seats_the_host_holds() -> None:
    with pytest.raises(EnvironmentProblem) as err:
        require(12, per_seat=1500, available=8 * 1024)
    assert "12 seat(s) need about 17.6 GiB" in err.value.message
    assert "this host holds 4 more seat(s) now" in err.value.message


def test_a_plan_within_memory_passes_and_reads_this_host() -> None:
    assert require(1, per_seat=1, available=RESERVE_MIB + 1).ok
    assert available_mib() > 0
