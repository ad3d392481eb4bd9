"""Progress display for long work (downloads, node starts), kept apart from the logic.

Logic calls `progress.step(...)`/`progress.done(...)`; the CLI decides whether that becomes a
live line on a terminal, plain lines in a log, or nothing at all (tests, the web app).
"""

from __future__ import annotations

import re
import sys
import time
from typing import Protocol, TextIO


class Progress(Protocol):
    def step(self, message: str) -> None: ...
    def done(self, message: str) -> None: ...


class Silent:
    def step(self, message: str) -> None:
        pass

    def done(self, message: str) -> None:
        pass


class Console:
    """Writes to stderr: a spinner line that updates in place on a TTY, plain lines otherwise."""

    FRAMES = "|/-\\"
    LOG_EVERY_S = 10.0  # in a log, a repeated "waiting ... (3s)" line is written at most this often

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self.frame = 0
        self._last_logged: tuple[str, float] = ("", 0.0)

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.started:5.1f}s"

    def step(self, message: str) -> None:
        if self.tty:
            self.frame = (self.frame + 1) % len(self.FRAMES)
            self.stream.write(f"\r\x1b[K{self.FRAMES[self.frame]} [{self._elapsed()}] {message}")
        else:
            kind, now = re.sub(r"\d+", "#", message), time.monotonic()
            if kind == self._last_logged[0] and now - self._last_logged[1] < self.LOG_EVERY_S:
                return
            self._last_logged = (kind, now)
            self.stream.write(f"[{self._elapsed()}] {message}\n")
        self.stream.flush()

    def done(self, message: str) -> None:
        prefix = "\r\x1b[K" if self.tty else ""
        self.stream.write(f"{prefix}✔ [{self._elapsed()}] {message}\n")
        self.stream.flush()
