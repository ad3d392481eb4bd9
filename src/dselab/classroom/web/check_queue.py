"""Checks wait their turn in a bounded queue: a few run at once for the whole class (each starts a
JVM), a bounded number wait a bounded time, and anyone beyond gets "busy, try again in a moment"
at once instead of a page that hangs.

    DSELAB_CLASSROOM_CHECKS        checks running at once (default: the host's cores, at most 4)
    DSELAB_CLASSROOM_CHECK_QUEUE   checks waiting for a turn (default 16)
    DSELAB_CLASSROOM_CHECK_WAIT_S  how long one waits before it is told to try again (default 30)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dselab import settings as knobs
from dselab.errors import DselabError
from dselab.settings import Settings, resolve

RUNNING_ENV, WAITING_ENV = knobs.CLASSROOM_CHECKS, knobs.CLASSROOM_CHECK_QUEUE
WAIT_ENV = knobs.CLASSROOM_CHECK_WAIT_S
BUSY_FIX = "try again in a moment"


class Busy(DselabError):
    """No turn for this check now; nothing ran."""


class CheckQueue:
    """At most `running` holders at once; at most `waiting` more wait, each up to `wait_s` seconds."""

    def __init__(self, running: int, waiting: int, wait_s: float) -> None:
        self.running, self.waiting, self.wait_s = running, waiting, wait_s
        self._turns = threading.BoundedSemaphore(running)
        self._lock = threading.Lock()
        self._waiting = 0

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> CheckQueue:
        """The queue the settings ask for (`settings`, else the environment's)."""
        room = resolve(settings).classroom
        return cls(room.checks or min(4, os.cpu_count() or 1), room.check_queue, room.check_wait_s)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold one turn for the block; Busy when the queue is full or the wait runs out."""
        if not self._turns.acquire(blocking=False):
            with self._lock:
                if self._waiting >= self.waiting:
                    raise Busy(f"The server is busy checking other seats ({self.running} at a time, "
                               f"{self._waiting} waiting).", fix=BUSY_FIX)
                self._waiting += 1
            try:
                got = self._turns.acquire(timeout=self.wait_s)
            finally:
                with self._lock:
                    self._waiting -= 1
            if not got:
                raise Busy(f"The server is busy checking other seats: no turn within {self.wait_s:.0f}s.",
                           fix=BUSY_FIX)
        try:
            yield
        finally:
            self._turns.release()
