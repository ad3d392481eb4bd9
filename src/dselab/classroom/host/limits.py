"""Limits per seat: how much memory, how many processes and what CPU share one seat may take, so
a fork bomb or a memory hog in one seat hurts that seat only.

Sized from the capacity plan (classroom.capacity): the memory a seat's nodes were measured to take
plus room for the tools a student runs (a nodetool JVM, cqlsh, dselab), as a hard limit with no
swap; processes from the threads a seat's four JVMs were measured to run plus the shell's tools.
Applied by the wrapper every seat command runs through (classroom.host.seat_enter, put in front by
`wrap`): RLIMIT_NPROC always, cgroups (memory, pids, cpu) where the host offers them.

    DSELAB_SEAT_MEMORY_LIMIT_MB   a seat's hard memory limit (default: the plan's seat + TOOLS_MIB)
    DSELAB_SEAT_PROCS             a seat's processes and threads (pids.max and RLIMIT_NPROC)
    DSELAB_SEAT_CPU_WEIGHT        a seat's CPU weight, 1-10000 (cgroup v2 units; default 100, the
                                  kernel's default: every seat weighs as much as one other task group)
    DSELAB_SEAT_CGROUPS=0         rlimits only, even where the host offers cgroups
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dselab import settings as knobs
from dselab.classroom import capacity
from dselab.classroom.host import cgroups
from dselab.settings import Settings, resolve

MEMORY_ENV, PROCS_ENV, CPU_ENV, CGROUPS_ENV = (
    knobs.SEAT_MEMORY_LIMIT_MB, knobs.SEAT_PROCS, knobs.SEAT_CPU_WEIGHT, knobs.SEAT_CGROUPS)
# Measured on real seats while the whole of lab 05 ran in one (tests/integration/test_classroom.py):
# a small-profile node peaked at 85 threads, the seat at 281 processes and threads (4 nodes, dselab,
# nodetool and sstableloader JVMs), its memory cgroup at 1604 MiB (1307 MiB RSS with 4 nodes up);
# a nodetool JVM adds about 110 MiB and 21 threads. Twice the threads, and room for a few tools.
NODES_PER_SEAT = 4  # three nodes and the restore node (step 10)
NODE_THREADS = 160
TOOL_THREADS = 200
TOOLS_MIB = 600
DEFAULT_CPU_WEIGHT = 100
MIB = 1 << 20


@dataclass(frozen=True)
class SeatLimits:
    memory_mib: int
    procs: int
    cpu_weight: int

    @property
    def settings(self) -> cgroups.Settings:
        return cgroups.Settings(self.memory_mib * MIB, self.procs, self.cpu_weight)


def plan(seat_mib: int | None = None, settings: Settings | None = None) -> SeatLimits:
    """The limits of one seat: the plan's memory per seat plus the tools' room; threads measured;
    each overridden by its own setting."""
    room = resolve(settings).classroom
    memory = (seat_mib or capacity.seat_mib(settings)) + TOOLS_MIB
    procs = NODES_PER_SEAT * NODE_THREADS + TOOL_THREADS
    return SeatLimits(room.seat_memory_limit_mb or memory, room.seat_procs or procs, room.seat_cpu_weight)


def cgroups_wanted(settings: Settings | None = None) -> bool:
    return resolve(settings).classroom.cgroups and os.geteuid() == 0


def offered(host: cgroups.Host | None = None, settings: Settings | None = None) -> list[cgroups.Base]:
    """The hierarchies seats get a cgroup in (none: rlimits only)."""
    return cgroups.bases(host or cgroups.Host.read()) if cgroups_wanted(settings) else []


def wrap(user: str, argv: Sequence[str], limits: SeatLimits | None = None,
         settings: Settings | None = None) -> list[str]:
    """argv (which drops to `user`, e.g. runuser) run under the seat's limits by classroom.host.seat_enter."""
    settings = resolve(settings)
    limits = limits or plan(settings=settings)
    flags = [] if offered(settings=settings) else ["--no-cgroups"]  # otherwise the wrapper refuses to run without them
    return [sys.executable, "-I", "-m", "dselab.classroom.host.seat_enter", "--user", user,
            "--memory", str(limits.memory_mib * MIB), "--procs", str(limits.procs),
            "--cpu-weight", str(limits.cpu_weight), *flags, "--", *argv]


def describe(limits: SeatLimits | None = None, bases: list[cgroups.Base] | None = None,
             settings: Settings | None = None) -> str:
    """One line for the instructor: what bounds each seat (said once, by `up` and `serve`)."""
    settings = resolve(settings)
    limits = limits or plan(settings=settings)
    bases = offered(settings=settings) if bases is None else bases
    procs = f"{limits.procs} processes/threads"
    if not bases:
        why = (f"{CGROUPS_ENV}=0" if not settings.classroom.cgroups else
               "not root" if os.geteuid() != 0 else "this host offers no writable cgroup")
        return (f"limits per seat: {procs} (RLIMIT_NPROC) only; no cgroups ({why}), so memory and CPU "
                "are not bounded per seat")
    where = "; ".join(f"{'+'.join(b.controllers)} ({b.version}) below {b.path}" for b in bases)
    return (f"limits per seat: {limits.memory_mib} MiB memory (no swap), {procs}, CPU weight "
            f"{limits.cpu_weight}; cgroups: {where}")


def seat_folders(user: str, bases: list[cgroups.Base] | None = None,
                 settings: Settings | None = None) -> list[Path]:
    return [b.seat_dir(user) for b in (offered(settings=settings) if bases is None else bases)]


def kill_all(folder: Path, rounds: int = 50) -> int:
    """SIGKILL every process in a seat's cgroup until none is left (a fork bomb races a single pass)."""
    killed = 0
    for _ in range(rounds):
        pids = cgroups.pids_in(folder)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        time.sleep(0.05)
    return killed


def remove(user: str, bases: list[cgroups.Base] | None = None, settings: Settings | None = None) -> list[Path]:
    """The seat's cgroups gone (whatever still runs in them killed first); the folders left behind."""
    left = []
    for folder in seat_folders(user, bases, settings):
        if folder.is_dir():
            kill_all(folder)
            if not cgroups.remove(folder):
                left.append(folder)
    return left
