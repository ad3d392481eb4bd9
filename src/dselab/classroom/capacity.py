"""Will the seats fit? Measured memory per seat times the seats to start, against the memory
the host has available now, and their idle CPU against the host's cores; checked before anything
is created.

Ports and address ranges need no check across seats: each seat has its own network namespace.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import psutil

from dselab.errors import EnvironmentProblem
from dselab.settings import SEAT_MEMORY_MB as SEAT_MEMORY_ENV
from dselab.settings import Settings, resolve

# benchmarks/classroom.py: a seat's three small-profile nodes took 1013 MiB RSS, 1304 MiB with its
# restore node up too (step 10); rounded up for growth during the lab. Plus the seat's two warm
# nodetool servers, its student's and its observer's (runtime.nodetool_server): 122 and 147 MiB
# RSS in benchmarks/seat-speed-results.json, alive while the class works (they exit after 15 idle minutes).
MEASURED_NODES_MIB = 1400
WARM_SERVERS_MIB = 280
MEASURED_SEAT_MIB = MEASURED_NODES_MIB + WARM_SERVERS_MIB
RESERVE_MIB = 768  # the server itself, checks' nodetool JVMs, the page cache's minimum
# Issue 17's measure on the 2-core machine: an idle seat's three small nodes use 0.06 cores (gossip,
# compaction checks, GC). At most half of the host's cores go to idling: the other half is for what
# students do (a Check or a nodetool call costs about a core second each) and for seats starting.
MEASURED_SEAT_IDLE_CORES = 0.06
IDLE_SHARE = 0.5
MIB = 1 << 20


__all__ = ["MEASURED_SEAT_IDLE_CORES", "MEASURED_SEAT_MIB", "SEAT_MEMORY_ENV", "Plan", "available_mib",
           "host_cores", "require", "seat_mib"]


def seat_mib(settings: Settings | None = None) -> int:
    """The memory one seat takes: DSELAB_SEAT_MEMORY_MB, else what was measured."""
    return resolve(settings).classroom.seat_memory_mb or MEASURED_SEAT_MIB


def available_mib() -> int:
    return int(psutil.virtual_memory().available // MIB)


def host_cores() -> int:
    """The cores this process may run on (a container's or taskset's limit included)."""
    return len(os.sched_getaffinity(0)) or 1


@dataclass(frozen=True)
class Plan:
    to_start: int
    per_seat_mib: int
    available_mib: int
    reserve_mib: int = RESERVE_MIB
    cores: int | None = None  # the host's cores (None: CPU not counted)
    idle_cores_per_seat: float = MEASURED_SEAT_IDLE_CORES
    running: int = 0  # seats already running (they idle too)

    @property
    def memory_fits(self) -> int:
        """How many more seats the host's free memory holds now."""
        return max(0, (self.available_mib - self.reserve_mib) // self.per_seat_mib)

    @property
    def cpu_fits(self) -> int | None:
        """How many more seats may idle on the host's cores (None: not counted)."""
        if self.cores is None:
            return None
        return max(0, int(self.cores * IDLE_SHARE / self.idle_cores_per_seat) - self.running)

    @property
    def fits(self) -> int:
        """How many more seats the host can hold now: the smaller of memory's and CPU's answer."""
        cpu = self.cpu_fits
        return self.memory_fits if cpu is None else min(self.memory_fits, cpu)

    @property
    def ok(self) -> bool:
        return self.to_start <= self.fits

    def describe(self) -> str:
        """One line for the instructor: what bounds the class on this host."""
        line = (f"memory for {self.memory_fits} more ({self.per_seat_mib} MiB per seat, "
                f"{self.available_mib} MiB available)")
        if self.cpu_fits is not None:
            line += (f"; CPU for {self.cpu_fits} more ({self.idle_cores_per_seat:g} cores per idle seat, "
                     f"half of {self.cores} cores)")
        return line


def require(to_start: int, per_seat: int | None = None, available: int | None = None,
            settings: Settings | None = None, cores: int | None = None, running: int = 0) -> Plan:
    plan = Plan(to_start, per_seat or seat_mib(settings), available_mib() if available is None else available,
                cores=host_cores() if cores is None else cores, running=running)
    if plan.ok:
        return plan
    if to_start > plan.memory_fits:
        raise EnvironmentProblem(
            f"{to_start} seat(s) need about {to_start * plan.per_seat_mib / 1024:.1f} GiB "
            f"({plan.per_seat_mib} MiB each) but {plan.available_mib / 1024:.1f} GiB is available: "
            f"this host holds {plan.fits} more seat(s) now",
            fix="use a smaller roster, stop other work, or a host with more memory")
    raise EnvironmentProblem(
        f"{running + to_start} seat(s) would idle at about {(running + to_start) * plan.idle_cores_per_seat:.1f} "
        f"of this host's {plan.cores} cores (half is kept for checks, commands and starts): "
        f"this host holds {plan.fits} more seat(s) now",
        fix="use a smaller roster, or a host with more cores")
