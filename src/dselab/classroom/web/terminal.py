"""Persistent shells behind the page terminals: one PTY per seat, kept while pages come and go.

A `TerminalSession` is a process on a PTY (ptyprocess, what terminado and Jupyter use) plus a reader
thread that appends everything the shell prints to a bounded scrollback. Clients never own the shell:
they attach, get the scrollback replayed, then follow the output from an offset; a page reload or a
dropped websocket only stops following, so a running command goes on and its output waits in the
scrollback. The shell ends only when it exits or the server closes the registry.

The command is the caller's (`ShellSpec`): a plain bash in a folder for the tests, and for a classroom
seat `ip netns exec dselab-<seat> runuser -u <user> -- ... bash -l` in the seat's home.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ptyprocess import PtyProcess

from dselab.errors import EnvironmentProblem, UsageError

DEFAULT_SCROLLBACK = 256 * 1024  # bytes kept per seat for replay
DEFAULT_SIZE = (24, 80)  # rows, cols until the page says its size
MAX_SIZE = 1000  # rows or cols beyond this are a bad message, not a terminal
READ_CHUNK = 64 * 1024
REPLAY_CUT_SEARCH = 4096  # after a trim, replay from the next line start within this many bytes
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShellSpec:
    """What to run for a seat's terminal: argv, its working folder, its whole environment."""

    argv: tuple[str, ...]
    cwd: Path
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.argv:
            raise UsageError("a terminal needs a command to run")


class TerminalSession:
    """One shell on a PTY, its scrollback, and the offsets clients follow it by."""

    def __init__(self, spec: ShellSpec, scrollback: int = DEFAULT_SCROLLBACK,
                 size: tuple[int, int] = DEFAULT_SIZE) -> None:
        try:
            self.process = PtyProcess.spawn(list(spec.argv), cwd=str(spec.cwd), env=dict(spec.env),
                                            dimensions=size)
        except (OSError, FileNotFoundError) as err:
            raise EnvironmentProblem(f"cannot start the terminal's shell {spec.argv[0]}: {err}") from None
        self.spec = spec
        self._limit = scrollback
        self._kept = bytearray()
        self._start = 0  # absolute offset of _kept[0] in everything the shell printed
        self._ended = False
        self._changed = threading.Condition()
        self.attached = 0  # pages following this shell now (for the instructor's view)
        self._reader = threading.Thread(target=self._read_output, name=f"pty-{self.process.pid}", daemon=True)
        self._reader.start()

    # -- the shell's side ---------------------------------------------------------------------------

    def _read_output(self) -> None:
        while True:
            try:
                chunk = self.process.read(READ_CHUNK)
            except (EOFError, OSError):
                break
            with self._changed:
                self._kept += chunk
                overflow = len(self._kept) - self._limit
                if overflow > 0:
                    del self._kept[:overflow]
                    self._start += overflow
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    @property
    def alive(self) -> bool:
        return not self._ended and self.process.isalive()

    def write(self, data: bytes) -> None:
        """Keystrokes to the shell; dropped once it has ended."""
        if self.alive:
            try:
                self.process.write(data)
            except OSError:
                pass  # the shell went away between the check and the write

    def resize(self, rows: int, cols: int) -> None:
        if not (0 < rows <= MAX_SIZE and 0 < cols <= MAX_SIZE):
            raise UsageError(f"terminal size {rows}x{cols} is out of range (1-{MAX_SIZE})")
        if self.alive:
            self.process.setwinsize(rows, cols)

    # -- the clients' side --------------------------------------------------------------------------

    def replay(self) -> tuple[bytes, int]:
        """Everything kept, and the offset to follow from. A trimmed scrollback starts at a line start,
        so a replay does not begin inside an escape sequence or a multi-byte character."""
        with self._changed:
            data = bytes(self._kept)
            end = self._start + len(self._kept)
            if self._start > 0:
                cut = data.find(b"\n", 0, REPLAY_CUT_SEARCH)
                data = data[cut + 1:] if cut >= 0 else data
            return data, end

    def read_after(self, offset: int, timeout: float) -> tuple[bytes, int]:
        """Output printed since `offset` (waits up to `timeout` for some), and the new offset.
        A client that fell behind the scrollback skips to what is kept."""
        with self._changed:
            end = self._start + len(self._kept)
            if offset >= end and not self._ended:
                self._changed.wait(timeout)
                end = self._start + len(self._kept)
            begin = max(offset, self._start)
            return bytes(self._kept[begin - self._start:]), end

    @contextmanager
    def following(self) -> Iterator[None]:
        """Count a page as attached while it follows the output."""
        with self._changed:
            self.attached += 1
        try:
            yield
        finally:
            with self._changed:
                self.attached -= 1

    @property
    def ended(self) -> bool:
        """The shell exited and all its output has been read."""
        with self._changed:
            return self._ended

    def close(self) -> None:
        """End the shell (hang-up, then kill) and free the PTY."""
        try:
            self.process.terminate(force=True)
        except OSError:
            pass
        self._reader.join(timeout=2)
        try:
            self.process.close(force=True)
        except OSError:
            pass


class TerminalRegistry:
    """The live shell of every seat: attaching starts one when there is none (or the last one exited)."""

    def __init__(self, shell_for: Callable[[str], ShellSpec], scrollback: int = DEFAULT_SCROLLBACK) -> None:
        self._shell_for = shell_for
        self._scrollback = scrollback
        self._sessions: dict[str, TerminalSession] = {}
        self._lock = threading.Lock()

    def session(self, seat_id: str) -> TerminalSession:
        """The seat's running shell, started now if there is none."""
        with self._lock:
            current = self._sessions.get(seat_id)
            if current is not None and current.alive:
                return current
            if current is not None:
                current.close()
            started = TerminalSession(self._shell_for(seat_id), self._scrollback)
            self._sessions[seat_id] = started
            log.info("terminal for seat %s started (pid %s)", seat_id, started.process.pid)
            return started

    def running(self, seat_id: str) -> TerminalSession | None:
        """The seat's shell if one runs; never starts one."""
        with self._lock:
            current = self._sessions.get(seat_id)
            return current if current is not None and current.alive else None

    def end(self, seat_id: str) -> None:
        """End one seat's shell (e.g. when the seat is reset)."""
        with self._lock:
            current = self._sessions.pop(seat_id, None)
        if current is not None:
            current.close()

    def close(self) -> None:
        """End every shell (server shutdown)."""
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()
