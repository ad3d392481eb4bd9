"""What the classroom benchmarks share: `dselab classroom` as a timed command, and an empty classroom
to start from (root only). Their own classroom root comes from DSELAB_CLASSROOM_ROOT, set before
this module is imported."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from dselab.classroom.layout import Layout


def classroom(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Seconds taken and the finished command; exit 0 or 1 (a check that fails) is a result, any
    other exit ends the benchmark with the command's last words."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "dselab", "classroom", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"benchmark: `dselab classroom {' '.join(args)}` failed: {proc.stderr[-800:]}")
    return time.monotonic() - started, proc


def empty_classroom() -> Layout:
    """The benchmark's classroom, purged of what a killed run left."""
    if os.geteuid() != 0:
        raise SystemExit("benchmark: run as root (the classroom creates users and namespaces)")
    layout = Layout.current()
    if layout.root.exists():
        classroom("down", "--purge")
    return layout
