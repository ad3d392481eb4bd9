"""Capacity arithmetic: seats that fit, and a refusal that says how many."""

from __future__ import annotations

import pytest

from dselab.classroom.capacity import IDLE_SHARE, MEASURED_SEAT_IDLE_CORES, RESERVE_MIB, Plan, available_mib, require
from dselab.errors import EnvironmentProblem


def test_seats_that_fit_leave_the_reserve() -> None:
    assert Plan(0, 1500, 24 * 1024).fits == (24 * 1024 - RESERVE_MIB) // 1500  # 15 on 24 GiB
    assert Plan(0, 1500, RESERVE_MIB).fits == 0
    assert Plan(0, 1500, 100).fits == 0  # never negative


def test_refusal_says_how_many_seats_the_host_holds() -> None:
    with pytest.raises(EnvironmentProblem) as err:
        require(12, per_seat=1500, available=8 * 1024, cores=64)
    assert "12 seat(s) need about 17.6 GiB" in err.value.message
    assert "this host holds 4 more seat(s) now" in err.value.message


def test_a_plan_within_memory_passes_and_reads_this_host() -> None:
    assert require(1, per_seat=1, available=RESERVE_MIB + 1).ok
    assert available_mib() > 0


def test_idle_seats_may_take_half_the_cores_whatever_the_memory() -> None:
    two_cores = Plan(0, 1400, 24 * 1024, cores=2)
    assert two_cores.cpu_fits == int(2 * IDLE_SHARE / MEASURED_SEAT_IDLE_CORES) == 16
    assert two_cores.memory_fits == 17 and two_cores.fits == 16  # on the 2-core, 24 GiB machine CPU bounds first
    assert Plan(0, 1400, 24 * 1024, cores=2, running=10).fits == 6  # running seats idle too
    assert Plan(0, 1400, 24 * 1024).fits == 17  # CPU not counted
    assert "CPU for 16 more" in two_cores.describe() and "memory for 17 more" in two_cores.describe()


def test_a_class_too_big_for_the_cores_is_refused_with_how_many_fit() -> None:
    with pytest.raises(EnvironmentProblem) as err:
        require(10, per_seat=1400, available=24 * 1024, cores=2, running=10)
    assert "20 seat(s) would idle at about 1.2 of this host's 2 cores" in err.value.message
    assert "this host holds 6 more seat(s) now" in err.value.message
