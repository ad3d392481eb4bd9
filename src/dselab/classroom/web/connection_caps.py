"""Connection caps for the classroom web server: a bounded number of connections in all, and of
requests per seat, so one seat (or anyone on the network) cannot make the server start a thread
per connection until the host runs out.

- In all (`CappedWSGIServer`, werkzeug's threaded server): at most `max_connections` handler
  threads. A connection beyond gets `503` from one answering thread (with a bounded backlog of its
  own; past that the connection is just closed) and never a thread of its own. A connection that
  sends no request for `idle_s` seconds (a slow or idle client) is closed and frees its thread;
  during a request (a page terminal's websocket lasts for hours) no such timeout applies. Over
  TLS the handshake happens there too, not in the accept loop, where a silent client stalls everyone.
- Per seat (`SeatCaps`, WSGI middleware): at most `per_seat` requests in flight for the seat in
  the request's cookie (its terminals, checks and polls together); beyond, `503`.

    DSELAB_CLASSROOM_MAX_CONNECTIONS    in all (default 256)
    DSELAB_CLASSROOM_SEAT_CONNECTIONS   per seat (default 12: a few tabs, each a terminal and polls)
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wsgi import ClosingIterator

from dselab import settings as knobs
from dselab.settings import ClassroomSettings

TOTAL_ENV, SEAT_ENV = knobs.CLASSROOM_MAX_CONNECTIONS, knobs.CLASSROOM_SEAT_CONNECTIONS
DEFAULT_TOTAL, DEFAULT_PER_SEAT = ClassroomSettings.max_connections, ClassroomSettings.seat_connections
IDLE_S = 30.0  # a connection with no request for this long is closed (keep-alive, slow senders)
REJECT_BACKLOG = 64  # connections waiting for their 503; beyond, closed without an answer
SERVER_FULL = "The classroom server is at its limit of {n} connections. Try again in a moment."
SEAT_FULL = ("Your seat has {n} connections open to the classroom server already. Close other tabs "
             "of the lab, then reload this page.")
log = logging.getLogger(__name__)


def http_503(message: str) -> bytes:
    body = (message + "\n").encode()
    head = ("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 5\r\nConnection: close\r\n\r\n")
    return head.encode() + body


class QuietIdleHandler(WSGIRequestHandler):
    """werkzeug's handler, without an error line each time an idle connection is closed."""

    def log_error(self, format: str, *args: Any) -> None:
        if not format.startswith("Request timed out"):
            super().log_error(format, *args)


class CappedWSGIServer(ThreadedWSGIServer):
    """werkzeug's threaded server with at most `max_connections` handler threads."""

    def __init__(self, host: str, port: int, app: Any, max_connections: int = DEFAULT_TOTAL,
                 idle_s: float = IDLE_S, **kwargs: Any) -> None:
        super().__init__(host, port, app, kwargs.pop("handler", QuietIdleHandler), **kwargs)
        if self.ssl_context is not None:  # the TLS handshake in the handler's thread, under the idle
            self.socket.do_handshake_on_connect = False  # type: ignore[attr-defined]  # an SSLSocket here; timeout, not in the accept loop (one silent client stalls it)
        self.max_connections, self.idle_s = max_connections, idle_s
        self._slots = threading.BoundedSemaphore(max_connections)
        self._rejects: queue.Queue[socket.socket] = queue.Queue(REJECT_BACKLOG)
        self.rejected = 0
        threading.Thread(target=self._answer_rejects, name="classroom-503", daemon=True).start()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.rejected += 1
            try:
                self._rejects.put_nowait(request)
            except queue.Full:
                self.shutdown_request(request)
            return
        request.settimeout(self.idle_s)
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _answer_rejects(self) -> None:
        """503 to every connection over the cap: read its request (briefly), answer, close."""
        while True:
            conn = self._rejects.get()
            try:
                conn.settimeout(0.5)
                seen = b""
                while b"\r\n\r\n" not in seen and len(seen) < 16384:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    seen += chunk
                conn.sendall(http_503(SERVER_FULL.format(n=self.max_connections)))
            except OSError:
                pass
            finally:
                self.shutdown_request(conn)


class SeatCaps:
    """WSGI middleware: at most `per_seat` requests in flight per key (`key_of`: the seat of the
    request's cookie, or None for requests of no seat, which only the total cap bounds)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], key_of: Callable[[dict[str, Any]], str | None],
                 per_seat: int = DEFAULT_PER_SEAT) -> None:
        self.app, self.key_of, self.per_seat = app, key_of, per_seat
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def in_flight(self, key: str) -> int:
        with self._lock:
            return self._open.get(key, 0)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        conn = environ.get("werkzeug.socket")
        idle = conn.gettimeout() if conn is not None else None
        if conn is not None:
            conn.settimeout(None)  # the idle timeout is for waiting on a request, not for serving one

        def waiting_again() -> None:
            if conn is not None:
                try:
                    conn.settimeout(idle)
                except OSError:
                    pass

        key = self.key_of(environ)
        if key is None:
            return ClosingIterator(self.app(environ, start_response), waiting_again)
        with self._lock:
            if self._open.get(key, 0) >= self.per_seat:
                body = SEAT_FULL.format(n=self.per_seat).encode()
                start_response("503 Service Unavailable", [("Content-Type", "text/plain; charset=utf-8"),
                                                           ("Content-Length", str(len(body))), ("Retry-After", "5")])
                waiting_again()
                return [body]
            self._open[key] = self._open.get(key, 0) + 1

        def done() -> None:
            with self._lock:
                self._open[key] -= 1
            waiting_again()

        try:
            return ClosingIterator(self.app(environ, start_response), done)
        except BaseException:
            done()
            raise
