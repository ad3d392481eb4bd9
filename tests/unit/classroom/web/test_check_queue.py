"""Checks wait in a bounded queue: a full queue or a long wait is a clear "busy" result, never a hang."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from lab_server import AUTH, SEATS, as_seat, registered_layout

from dselab.classroom import recording
from dselab.classroom.web import check_queue
from dselab.classroom.web.check_queue import Busy, CheckQueue
from dselab.classroom.web.server import create_classroom_app
from dselab.classroom.web.terminal import ShellSpec
from dselab.classroom.web.work import ClassroomWork


@contextmanager
def holding(queue: CheckQueue, count: int) -> Iterator[threading.Event]:
    """`count` threads holding (or waiting for) a turn until the yielded event is set."""
    release = threading.Event()

    def hold() -> None:
        try:
            with queue.turn():
                release.wait(10)
        except Busy:
            pass

    threads = [threading.Thread(target=hold) for _ in range(count)]
    for thread in threads:
        thread.start()
    time.sleep(0.2)
    try:
        yield release
    finally:
        release.set()
        for thread in threads:
            thread.join()


def test_a_full_queue_answers_busy_at_once() -> None:
    queue = CheckQueue(running=2, waiting=1, wait_s=10)
    with holding(queue, 3):  # two run, one waits
        started = time.monotonic()
        with pytest.raises(Busy, match="busy checking other seats") as busy:
            with queue.turn():
                pass
        assert time.monotonic() - started < 1
        assert busy.value.fix == check_queue.BUSY_FIX
    with queue.turn():  # everyone done: a turn at once
        pass


def test_a_waiter_gets_busy_after_the_bounded_wait_and_a_turn_when_one_frees() -> None:
    queue = CheckQueue(running=1, waiting=4, wait_s=0.3)
    with holding(queue, 1):
        started = time.monotonic()
        with pytest.raises(Busy, match="no turn within"):
            with queue.turn():
                pass
        assert 0.25 < time.monotonic() - started < 2
    queue.wait_s = 5
    with holding(queue, 1) as release:
        threading.Timer(0.3, release.set).start()
        with queue.turn():  # waits until the holder is done
            pass


def test_a_failing_check_gives_its_turn_back() -> None:
    queue = CheckQueue(running=1, waiting=0, wait_s=1)
    with pytest.raises(RuntimeError):
        with queue.turn():
            raise RuntimeError("the check broke")
    with queue.turn():
        pass


def test_the_defaults_follow_the_host_and_the_knobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    for name in (check_queue.RUNNING_ENV, check_queue.WAITING_ENV, check_queue.WAIT_ENV):
        monkeypatch.delenv(name, raising=False)
    queue = CheckQueue.from_env()
    assert (queue.running, queue.waiting, queue.wait_s) == (2, 16, 30)
    monkeypatch.setenv(check_queue.RUNNING_ENV, "1")
    assert CheckQueue.from_env().running == 1


def test_the_check_button_of_a_seat_gets_busy_when_the_class_queue_is_full(
        tmp_path: Path, lab_shells: dict[str, ShellSpec], monkeypatch: pytest.MonkeyPatch) -> None:
    work = ClassroomWork(registered_layout(tmp_path / "room", SEATS), "05")
    work.check_queue = CheckQueue(running=1, waiting=0, wait_s=5)
    ran: list[tuple] = []
    monkeypatch.setattr(recording, "check_seat", lambda *args, **kwargs: ran.append(args) or [])
    app = create_classroom_app(lab_shells, AUTH, work=work)
    try:
        with holding(work.check_queue, 1):  # another seat's check runs: the queue is full
            response = as_seat(app, SEATS[0]).post(f"/seat/{SEATS[0]}/api/labs/05/steps/1/check", json={})
    finally:
        app.extensions["dselab_terminals"].close()
    result = response.get_json()
    assert response.status_code == 200 and result["status"] == "error"
    assert "busy checking other seats" in result["message"] and result["hint"] == check_queue.BUSY_FIX
    assert ran == []  # nothing ran for this seat
