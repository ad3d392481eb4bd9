"""Will the seats fit? Measured memory per seat times the seats to start, against the memory
the host has available now; checked before anything is created.

Ports and address ranges need no check across seats: each seat has its own network namespace.
"""

from __future__ import annotations

from dataclasses import dataclass

import psutil

from dselab.errors import EnvironmentProblem
from dselab.settings import SEAT_MEMORY_MB as SEAT_MEMORY_ENV
from dselab.settings import Settings, resolve

# benchmarks/classroom.py: a seat's three small-profile nodes took 1013 MiB RSS, 1304 MiB with its
# restore node up too (step 10); rounded up for growth during the lab.
MEASURED_SEAT_MIB = 1400
RESERVE_MIB = 768  # the server itself, checks' nodetool JVMs, the page cache's minimum
MIB = 1 << 20


__all__ = ["MEASURED_SEAT_MIB", "SEAT_MEMORY_ENV", "Plan", "available_mib", "require", "seat_mib"]


def seat_mib(settings: Settings | None = None) -> int:
    """The memory one seat takes: DSELAB_SEAT_MEMORY_MB, else what was measured."""
    return resolve(settings).classroom.seat_memory_mb or MEASURED_SEAT_MIB


def available_mib() -> int:
    return int(psutil.virtual_memory().available // MIB)


@dataclass(frozen=True)
class Plan:
    to_start: int
    per_seat_mib: int
    available_mib: int
    reserve_mib: int = RESERVE_MIB

    @property
    def fits(self) -> int:
        """How many more seats the host can hold now."""
        return max(0, (self.available_mib - self.reserve_mib) // self.per_seat_mib)

    @property
    def ok(self) -> bool:
        return self.to_start <= self.fits


def require(to_start: int, per_seat: int | None = None, available: int | None = None,
            settings: Settings | None = None) -> Plan:
    plan = Plan(to_start, per_seat or seat_mib(settings), available_mib() if available is None else available)
    if not plan.ok:
        raise EnvironmentProblem(
            f"{to_start} seat(s) need about {to_start * plan.per_seat_mib / 1024:.1f} GiB "
            f"({plan.per_seat_mib} MiB each) but {plan.available_mib / 1024:.1f} GiB is available: "
            f"this host holds {plan.fits} more seat(s) now",
            fix="use a smaller roster, stop other work, or a host with more memory")
    return plan
