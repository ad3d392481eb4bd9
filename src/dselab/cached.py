"""Values that are costly to compute (a cluster's status starts a JVM) shared between requests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Cached(Generic[T]):
    """One value recomputed at most every `ttl` seconds; concurrent askers wait for one computation."""

    def __init__(self, compute: Callable[[], T], ttl: float) -> None:
        self._compute, self._ttl = compute, ttl
        self._lock = threading.Lock()
        self._value: tuple[float, T] | None = None

    def get(self) -> T:
        with self._lock:
            if self._value is None or time.monotonic() - self._value[0] >= self._ttl:
                self._value = (time.monotonic(), self._compute())
            return self._value[1]


class Refreshed(Generic[T]):
    """A value refreshed in the background at most every `ttl` seconds; askers get the last one at once
    (`initial` until the first computation ends), so a slow source never holds up a page."""

    def __init__(self, compute: Callable[[], T], ttl: float, initial: T) -> None:
        self._compute, self._ttl, self._value = compute, ttl, initial
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._running = False

    def _run(self) -> None:
        try:
            value = self._compute()
        except Exception:  # noqa: BLE001  (the refresh must outlive any one failure: it runs again next time)
            value = self._value
        with self._lock:
            self._value, self._at, self._running = value, time.monotonic(), False

    def get(self) -> T:
        with self._lock:
            if not self._running and time.monotonic() - self._at >= self._ttl:
                self._running = True
                threading.Thread(target=self._run, name="refresh", daemon=True).start()
            return self._value
