"""tests/lanes.py, CI's runner of lanes: lanes run at the same time, each line carries its lane's
name, a failed lane stops no other, and the exit status is 1 when any failed. A shell script
stands in for make (its targets sleep, print and exit as told)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

LANES = Path(__file__).resolve().parents[1] / "lanes.py"

FAKE_MAKE = """#!/bin/sh
# the last argument is the target: "<name>-<seconds>-<exit status>"
target=$(echo "$@" | awk '{print $NF}')
seconds=$(echo "$target" | cut -d- -f2); status=$(echo "$target" | cut -d- -f3)
echo "begin $target"; sleep "$seconds"; echo "end $target" >&2; exit "$status"
"""


def run_lanes(tmp_path: Path, *targets: str) -> tuple[subprocess.CompletedProcess[str], float]:
    make = tmp_path / "make"
    make.write_text(FAKE_MAKE)
    make.chmod(0o755)
    began = time.monotonic()
    proc = subprocess.run([sys.executable, str(LANES), *targets], capture_output=True, text=True,
                          env={"MAKE": str(make), "PATH": "/usr/bin:/bin"}, timeout=60)
    return proc, time.monotonic() - began


def test_lanes_run_at_once_and_every_line_names_its_lane(tmp_path: Path) -> None:
    proc, took = run_lanes(tmp_path, "a-2-0", "b-2-0", "c-2-0")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert took < 5, f"three 2 s lanes took {took:.1f}s: they ran one after another"
    for name in ("a-2-0", "b-2-0", "c-2-0"):
        assert re.search(rf"^\[{name}\] +begin {name}$", proc.stdout, re.M), proc.stdout
        assert re.search(rf"^\[{name}\] +end {name}$", proc.stdout, re.M)  # its stderr too, on its lines
    assert "lanes," in proc.stdout and proc.stdout.count("passed") >= 6  # three lane lines, three table rows


def test_a_failed_lane_stops_no_other_and_fails_the_run(tmp_path: Path) -> None:
    proc, _ = run_lanes(tmp_path, "bad-0-3", "slow-2-0")
    assert proc.returncode == 1
    assert "end slow-2-0" in proc.stdout  # the slow lane ran to its end after the other failed
    table = proc.stdout.split("lanes,")[1]
    assert "FAILED (exit 3)" in table and "passed" in table


def test_no_target_or_an_option_prints_the_usage(tmp_path: Path) -> None:
    for argv in ((), ("--help",)):
        proc, _ = run_lanes(tmp_path, *argv)
        assert proc.returncode == 2 and "lanes" in proc.stderr
