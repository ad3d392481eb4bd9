"""One page terminal's websocket, bridged to its seat's persistent shell.

The page sends JSON text messages: `{"type": "input", "data": "..."}` (keystrokes) and
`{"type": "resize", "rows": R, "cols": C}`. The server sends binary messages: the shell's output
bytes (xterm.js decodes UTF-8 itself, also across message boundaries). On connect the page gets the
scrollback first, then the output as it comes. When the socket drops, the shell keeps running.
The page's right to the shell is looked at again every poll: once its cookie opens nothing (its link
was rotated, its session expired) the socket closes with CLOSE_SESSION_ENDED and the page stops.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from simple_websocket import ConnectionClosed

from dselab.classroom.web.terminal import TerminalSession
from dselab.errors import UsageError

FOLLOW_POLL_S = 1.0  # how often the output pump notices that the page went away
CLOSE_SHELL_ENDED = 4000  # application close codes (4000-4999): the page reconnects to a new shell
CLOSE_NO_SHELL = 4001  # the shell could not start; reconnecting will not help
CLOSE_SESSION_ENDED = 4002  # the page's cookie opens nothing any more; reconnecting will not help
SESSION_ENDED = "this session ended: open your join link again"
CLOSE_BAD_MESSAGE = 1007
ENDED_NOTE = b"\r\n[the shell ended; a new one starts when the page reconnects]\r\n"
log = logging.getLogger(__name__)


class Socket(Protocol):
    """What the bridge needs of a websocket (simple_websocket.Server has it)."""

    connected: bool

    def send(self, data: bytes | str) -> None: ...
    def receive(self, timeout: float | None = None) -> bytes | str | None: ...
    def close(self, reason: int | None = None, message: str | None = None) -> None: ...


def parse_message(raw: bytes | str) -> tuple[str, Any]:
    """("input", bytes) or ("resize", (rows, cols)); UsageError for anything else."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise UsageError("terminal messages are JSON") from None
    kind = message.get("type") if isinstance(message, dict) else None
    if kind == "input" and isinstance(message.get("data"), str):
        return "input", message["data"].encode("utf-8", "surrogateescape")
    if kind == "resize":
        rows, cols = message.get("rows"), message.get("cols")
        if type(rows) is int and type(cols) is int:
            return "resize", (rows, cols)
    raise UsageError('send {"type": "input", "data": "..."} or {"type": "resize", "rows": R, "cols": C}')


class _Outbox:
    """Sends and the close from the two threads of one page, so nothing is sent after the close."""

    def __init__(self, ws: Socket) -> None:
        self.ws = ws
        self.closed = False
        self._lock = threading.Lock()

    def send(self, data: bytes) -> bool:
        with self._lock:
            if not self.closed:
                self.ws.send(data)
            return not self.closed

    def close(self, code: int, reason: str) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                self.ws.close(code, reason)


def _pump_output(out: _Outbox, session: TerminalSession, offset: int) -> None:
    """Shell output to the page until the page leaves or the shell ends."""
    try:
        while not out.closed:
            data, offset = session.read_after(offset, FOLLOW_POLL_S)
            if data:
                out.send(data)
            elif session.ended:
                out.send(ENDED_NOTE)
                out.close(CLOSE_SHELL_ENDED, "the shell ended")
                return
    except ConnectionClosed:
        pass


def bridge(ws: Socket, session: TerminalSession, allowed: Callable[[], bool] = lambda: True) -> None:
    """Serve one page on `session` until the page leaves or `allowed()` (asked at most once a poll)
    turns false; the shell outlives it."""
    replay, offset = session.replay()
    out = _Outbox(ws)
    asked = time.monotonic()
    with session.following():
        pump = threading.Thread(target=_pump_output, args=(out, session, offset), daemon=True)
        try:
            if replay:
                out.send(replay)
            pump.start()
            while not out.closed:
                raw = ws.receive(FOLLOW_POLL_S)
                if time.monotonic() - asked >= FOLLOW_POLL_S:
                    asked = time.monotonic()
                    if not allowed():
                        out.close(CLOSE_SESSION_ENDED, SESSION_ENDED)
                        break
                if raw is None:
                    continue
                try:
                    kind, value = parse_message(raw)
                    if kind == "input":
                        session.write(value)
                    else:
                        session.resize(*value)
                except UsageError as err:  # a bad message or an impossible size
                    out.close(CLOSE_BAD_MESSAGE, err.message[:120])
                    break
        except ConnectionClosed:
            pass
        finally:
            out.closed = True
            if pump.is_alive():
                pump.join(timeout=FOLLOW_POLL_S + 1)
