"""The classroom server caps connections in all and per seat: over a cap, 503 with a clear message."""

from __future__ import annotations

import http.client
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from simple_websocket import Client

from dselab.classroom.web import connection_caps as caps
from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.connection_caps import CappedWSGIServer, SeatCaps
from dselab.classroom.web.server import SEAT_COOKIE, make_classroom_server
from dselab.classroom.web.terminal import ShellSpec
from threaded_server import serving


class Slow:
    """A WSGI app whose requests to /slow hold their thread until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.inside = threading.Semaphore(0)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/slow":
            self.inside.release()
            self.release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]


def get(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def eventually(url: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET until it is not a 503 (a slot comes back a moment after its connection closes)."""
    deadline = time.monotonic() + 5
    while (answer := get(url, path, headers))[0] == 503 and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


@contextmanager
def in_flight(url: str, count: int, app: Slow, headers: dict[str, str] | None = None) -> Iterator[None]:
    """`count` requests to /slow held inside the app until the block ends."""
    threads = [threading.Thread(target=get, args=(url, "/slow", headers)) for _ in range(count)]
    for thread in threads:
        thread.start()
    for _ in threads:
        assert app.inside.acquire(timeout=10)
    try:
        yield
    finally:
        app.release.set()
        for thread in threads:
            thread.join()
        app.release.clear()


def test_over_the_total_cap_a_connection_gets_503_without_a_thread() -> None:
    app = Slow()
    server = CappedWSGIServer("127.0.0.1", 0, app, max_connections=2)
    with serving(server) as url:
        with in_flight(url, 2, app):
            threads = threading.active_count()
            status, body = get(url, "/fast")
            assert status == 503 and "at its limit of 2 connections" in body and "Try again" in body
            assert threading.active_count() == threads  # no handler thread was started for it
        assert eventually(url, "/fast") == (200, "ok")  # slots free again
    assert server.rejected >= 1  # (more when a retry above came before a slot was given back)


def test_a_connection_that_never_sends_a_request_is_closed_and_frees_its_slot() -> None:
    server = CappedWSGIServer("127.0.0.1", 0, Slow(), max_connections=1, idle_s=0.3)
    with serving(server) as url:
        host, port = url.removeprefix("http://").split(":")
        idle = socket.create_connection((host, int(port)))
        idle.settimeout(5)
        assert idle.recv(100) == b""  # closed by the server after idle_s
        idle.close()
        assert eventually(url, "/fast") == (200, "ok")


def test_per_seat_cap_counts_requests_of_each_seat_apart() -> None:
    app = Slow()
    capped = SeatCaps(app, lambda environ: environ.get("HTTP_X_SEAT"), per_seat=2)
    with serving(CappedWSGIServer("127.0.0.1", 0, capped, max_connections=20)) as url:
        with in_flight(url, 2, app, {"X-Seat": "alice"}):
            assert capped.in_flight("alice") == 2
            status, body = get(url, "/fast", {"X-Seat": "alice"})
            assert status == 503 and "Your seat has 2 connections open" in body
            assert get(url, "/fast", {"X-Seat": "bob"}) == (200, "ok")  # another seat is not held up
            assert get(url, "/fast") == (200, "ok")  # nor a request of no seat (a join link)
        assert eventually(url, "/fast", {"X-Seat": "alice"}) == (200, "ok")
        deadline = time.monotonic() + 5
        while capped.in_flight("alice") and time.monotonic() < deadline:  # counted down after the answer is sent
            time.sleep(0.05)
        assert capped.in_flight("alice") == 0


def test_the_classroom_server_caps_a_seat_by_its_cookie(monkeypatch: pytest.MonkeyPatch, auth: ClassroomAuth,
                                                        shells: dict[str, ShellSpec]) -> None:
    """One seat's open terminal counts against its own cap (1 here), not against another seat's."""
    monkeypatch.setenv(caps.SEAT_ENV, "1")
    with serving(make_classroom_server("127.0.0.1", 0, shells, auth)) as url:
        ws = Client.connect(url.replace("http://", "ws://") + "/seat/alice/terminal",
                            headers={"Cookie": f"{SEAT_COOKIE}={auth.seat_cookie('alice')}",
                                     "Origin": "http://127.0.0.1"})
        try:
            time.sleep(0.2)
            status, body = get(url, "/seat/alice/", {"Cookie": f"{SEAT_COOKIE}={auth.seat_cookie('alice')}"})
            assert status == 503 and "Close other tabs" in body
            status, _ = get(url, "/seat/bob/", {"Cookie": f"{SEAT_COOKIE}={auth.seat_cookie('bob')}"})
            assert status == 200
        finally:
            ws.close()
        back = eventually(url, "/seat/alice/", {"Cookie": f"{SEAT_COOKIE}={auth.seat_cookie('alice')}"})
        assert back[0] == 200, "the seat's slot was not given back when its terminal closed"


def test_over_tls_a_silent_client_does_not_stall_the_others(tmp_path) -> None:
    """werkzeug shakes hands in its accept loop: a client that never says hello would stall it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    server = CappedWSGIServer("127.0.0.1", 0, Slow(), max_connections=4, ssl_context=(str(cert), str(key)))
    with serving(server):
        silent = socket.create_connection(("127.0.0.1", server.server_port))
        try:
            time.sleep(0.2)
            context = ssl.create_default_context(cafile=str(cert))
            conn = http.client.HTTPSConnection("127.0.0.1", server.server_port, timeout=10, context=context)
            conn.request("GET", "/fast")
            assert conn.getresponse().read() == b"ok"
            conn.close()
        finally:
            silent.close()
