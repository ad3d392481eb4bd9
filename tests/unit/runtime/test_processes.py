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


def test_killed_processes_whose_parent_does_not_reap_them_count_as_ended_at_once() -> None:
    """A killed orphan waits for its init to reap it, which some sandboxes' init does seconds later:
    here the parent (`exec sleep`) never reaps its children, so each stays a zombie."""
    parent = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & echo ready; exec sleep 60"], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "ready"
        children = psutil.Process(parent.pid).children()
        assert len(children) == 2
        started = time.monotonic()
        assert processes.kill_each(children, wait_s=10) == []
        assert time.monotonic() - started < 2
        assert all(child.status() == psutil.STATUS_ZOMBIE for child in children)  # not reaped, yet ended
        # Before their user is deleted, a caller waits until they leave the process table: here never.
        left = processes.kill_each(children, wait_s=0.5, reaped=True)
        assert sorted(p.pid for p in left) == sorted(p.pid for p in children)
    finally:
        parent.kill()
        parent.wait()


def test_kill_each_of_a_process_already_gone_is_no_error() -> None:
    gone = _spawn(False)
    processes.kill(gone)
    assert processes.kill_each([gone], wait_s=1) == []
