"""Stopping node processes: every one is asked at once, and one that ignores SIGTERM is killed
when the grace runs out, without holding up the others' clean stops."""

from __future__ import annotations

import subprocess
import time

import psutil

from dselab.runtime import processes


def _spawn(ignore_term: bool) -> psutil.Process:
    script = "trap '' TERM; while :; do sleep 0.1; done"
    proc = subprocess.Popen(["sh", "-c", script] if ignore_term else ["sleep", "30"], start_new_session=True)
    return psutil.Process(proc.pid)


def test_all_are_asked_at_once_and_a_stubborn_one_is_killed_after_the_grace() -> None:
    polite = [_spawn(False) for _ in range(3)]
    stubborn = _spawn(True)
    time.sleep(0.2)  # the shell has set its trap
    started = time.monotonic()
    processes.stop_all([stubborn, *polite], grace=1.5)
    took = time.monotonic() - started
    assert not any(processes.alive(p) for p in [stubborn, *polite])
    # one grace for all (asked in turn, it would be the stubborn one's grace and then the rest)
    assert 1.4 <= took < 3.0


def test_a_process_already_gone_is_no_error() -> None:
    proc = _spawn(False)
    processes.kill(proc)
    processes.stop_all([proc], grace=1)
    assert not processes.alive(proc)
