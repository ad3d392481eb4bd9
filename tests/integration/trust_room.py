"""A classroom of two real seats for the trust tests (issue 16): `mallory` attacks, `victim` works.

One classroom serves every trust test module of the session (`trust_room` in conftest): starting
seats costs minutes, so attacks share it and each test restores what it broke before it ends.
DSELAB_TRUST_ROOT and DSELAB_TRUST_SEAT_PREFIX keep two developers' runs apart on one machine
(seat users and namespaces are machine-wide names).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dselab.classroom import registry
from dselab.classroom.host.seats import HostSeat
from dselab.classroom.layout import ROOT_ENV, Layout

ROOT = Path(os.environ.get("DSELAB_TRUST_ROOT", "/var/lib/dselab/classroom-trust"))
PREFIX = os.environ.get("DSELAB_TRUST_SEAT_PREFIX", "")
MALLORY, VICTIM = f"{PREFIX}mallory", f"{PREFIX}victim"


def classroom(*args: str, timeout: float = 1200, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`dselab classroom ARGS` as the instructor (root) would type it."""
    env = {**os.environ, ROOT_ENV: str(root)}
    return subprocess.run([sys.executable, "-m", "dselab", "classroom", *args], capture_output=True, text=True,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def as_seat(seat: str, command: str, timeout: float = 300, root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """A shell command typed in the seat's terminal: as the seat user, in its namespace."""
    return classroom("exec", seat, "--", "bash", "-c", command, timeout=timeout, root=root)


@dataclass
class Room:
    layout: Layout
    key_file: Path
    mallory: HostSeat  # the seats as the host backend keeps them: user, namespace, home
    victim: HostSeat

    def seat(self, seat_id: str) -> HostSeat:
        return HostSeat.of(self.layout, registry.get(self.layout, seat_id))


def start_classroom(root: Path, work: Path, seat_ids: list[str]) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """Purge what a killed run left under `root`, then `classroom up` the seats with a new course key."""
    from dselab.grading.keys import keygen

    if root.exists():
        classroom("down", "--purge", root=root)
    key = keygen(work / "course.key")
    roster = work / "roster.txt"
    roster.write_text("".join(f"{sid}\n" for sid in seat_ids))
    up = classroom("up", "--roster", str(roster), "--key-file", str(key), root=root)
    assert up.returncode == 0, up.stdout + up.stderr
    return key, up


def open_room(work: Path) -> Room:
    """Both trust seats up with lab 05 started."""
    key, _ = start_classroom(ROOT, work, [MALLORY, VICTIM])
    layout = Layout(ROOT)
    known = registry.load(layout)
    return Room(layout, key, HostSeat.of(layout, known[MALLORY]), HostSeat.of(layout, known[VICTIM]))


def close_room() -> None:
    """The last classroom of the session: its purge takes the test classrooms' shared template too."""
    if ROOT.exists():
        classroom("down", "--purge", "--templates")
