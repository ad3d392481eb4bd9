"""A seat's limits from the capacity plan, the knobs that change them, and the wrapped seat command."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab.classroom import capacity
from dselab.classroom.host import cgroups, limits
from dselab.classroom.host.seats import HostSeat, seat_argv
from dselab.classroom.host.toolchain import Toolchain
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.errors import UsageError


@pytest.fixture(autouse=True)
def _no_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (limits.MEMORY_ENV, limits.PROCS_ENV, limits.CPU_ENV, limits.CGROUPS_ENV, capacity.SEAT_MEMORY_ENV):
        monkeypatch.delenv(name, raising=False)


def test_memory_is_the_plans_seat_plus_room_for_tools_and_procs_cover_four_jvms() -> None:
    plan = limits.plan()
    assert plan.memory_mib == capacity.MEASURED_SEAT_MIB + limits.TOOLS_MIB
    assert plan.procs == limits.NODES_PER_SEAT * limits.NODE_THREADS + limits.TOOL_THREADS
    assert plan.cpu_weight == 100
    assert plan.settings.memory_bytes == plan.memory_mib << 20


def test_the_plan_follows_the_capacity_knob_and_each_limit_has_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(capacity.SEAT_MEMORY_ENV, "2000")  # the instructor measured bigger seats
    assert limits.plan().memory_mib == 2000 + limits.TOOLS_MIB
    monkeypatch.setenv(limits.MEMORY_ENV, "3000")
    monkeypatch.setenv(limits.PROCS_ENV, "1500")
    monkeypatch.setenv(limits.CPU_ENV, "50")
    assert limits.plan() == limits.SeatLimits(3000, 1500, 50)


@pytest.mark.parametrize("name,value", [(limits.MEMORY_ENV, "lots"), (limits.PROCS_ENV, "10"),
                                        (limits.CPU_ENV, "0"), (limits.CPU_ENV, "20000")])
def test_bad_knobs_are_refused_with_their_name(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(UsageError, match=name):
        limits.plan()


def test_described_once_with_or_without_cgroups(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = limits.SeatLimits(2000, 840, 100)
    base = cgroups.Base(cgroups.V1, Path("/sys/fs/cgroup/memory/x"), ("memory",))
    line = limits.describe(plan, [base])
    assert "2000 MiB memory (no swap)" in line and "840 processes/threads" in line
    assert "below /sys/fs/cgroup/memory/x" in line
    bare = limits.describe(plan, [])
    assert "RLIMIT_NPROC) only" in bare and "not bounded" in bare
    monkeypatch.setenv(limits.CGROUPS_ENV, "0")
    assert limits.offered() == [] and "DSELAB_SEAT_CGROUPS=0" in limits.describe(plan)


def test_every_seat_command_starts_in_the_wrapper_before_its_namespace(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seat = HostSeat.of(Layout(tmp_path), Seat.planned(Layout(tmp_path), "ann"))
    toolchain = Toolchain(venv=tmp_path / "venv", cache=tmp_path / "cache")
    monkeypatch.setattr(limits, "offered", lambda host=None, settings=None: [])
    argv = seat_argv(seat, toolchain, ["bash", "-l"])
    cut = argv.index("--")
    assert argv[1:4] == ["-I", "-m", "dselab.classroom.host.seat_enter"] and "--no-cgroups" in argv[:cut]
    assert argv[argv.index("--procs") + 1] == str(limits.plan().procs)
    assert argv[cut + 1:cut + 5] == ["ip", "netns", "exec", seat.netns]  # /sys/fs/cgroup is hidden in there
    monkeypatch.setattr(limits, "offered", lambda host=None, settings=None: ["a base"])
    assert "--no-cgroups" not in seat_argv(seat, toolchain, ["true"])  # offered: the wrapper must join them
