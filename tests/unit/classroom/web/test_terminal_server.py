"""The classroom server's doors: join links, seat pages, the terminal websocket and the instructor pages.

Flask's test client for every refusal (they happen before any websocket handshake); a real server on
a loopback port with a real websocket client for the terminal itself.
"""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from simple_websocket import Client, ConnectionClosed, ConnectionError

from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LinkState
from dselab.classroom.web.server import INSTRUCTOR_COOKIE, SEAT_COOKIE

WS_HEADERS = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def client_as(app: Flask, seat: str | None, auth: ClassroomAuth):
    client = app.test_client()
    if seat is not None:
        client.set_cookie(SEAT_COOKIE, auth.seat_cookie(seat))
    return client


def test_join_link_sets_a_strict_httponly_seat_cookie_and_opens_the_seat(classroom_app: Flask,
                                                                         auth: ClassroomAuth) -> None:
    response = classroom_app.test_client().get(f"/join/{auth.join_token('alice')}")
    assert response.status_code == 200
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{SEAT_COOKIE}=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/" in cookie and "Secure" not in cookie  # plain HTTP here; over TLS it is Secure
    assert auth.seat_from_cookie(cookie.split(";")[0].split("=", 1)[1]) == "alice"
    assert 'content="0;url=/seat/alice/"' in response.get_data(as_text=True)


def test_join_link_over_tls_sets_a_secure_cookie(classroom_app: Flask, auth: ClassroomAuth) -> None:
    response = classroom_app.test_client().get(f"/join/{auth.join_token('alice')}", base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("token", ["0" * 32, "alice", "nonsense"])
def test_unknown_or_forged_join_tokens_get_403_and_no_cookie(classroom_app: Flask, auth: ClassroomAuth,
                                                              token: str) -> None:
    forged = classroom_app.test_client().get(f"/join/{token}")
    removed_seat = classroom_app.test_client().get(f"/join/{auth.join_token('carol')}")
    for response in (forged, removed_seat):
        assert response.status_code == 403
        assert "Set-Cookie" not in response.headers
        body = response.get_data(as_text=True)
        assert "alice" not in body and "bob" not in body
    assert forged.get_data() == removed_seat.get_data(), "a seat that exists and one that does not look alike"


def test_seat_page_opens_with_its_own_cookie_only(classroom_app: Flask, auth: ClassroomAuth) -> None:
    own = client_as(classroom_app, "alice", auth).get("/seat/alice/")
    assert own.status_code == 200
    page = own.get_data(as_text=True)
    assert 'data-socket-path="/seat/alice/terminal"' in page
    assert auth.instructor_token() not in page and "instructor" not in page.lower()
    assert "'nonce-" in own.headers["Content-Security-Policy"] and "unsafe-inline" not in own.headers[
        "Content-Security-Policy"]
    other = client_as(classroom_app, "alice", auth).get("/seat/bob/")
    missing = client_as(classroom_app, "alice", auth).get("/seat/carol/")
    nobody = client_as(classroom_app, None, auth).get("/seat/bob/")
    for refused in (other, missing, nobody):
        assert refused.status_code == 403
    assert other.get_data() == missing.get_data() == nobody.get_data()


def test_seat_root_leads_to_the_cookies_seat(classroom_app: Flask, auth: ClassroomAuth) -> None:
    response = client_as(classroom_app, "bob", auth).get("/seat/")
    assert response.status_code == 302 and response.headers["Location"] == "/seat/bob/"
    assert client_as(classroom_app, None, auth).get("/seat/").status_code == 403


def test_forged_or_other_course_seat_cookie_is_refused(classroom_app: Flask, auth: ClassroomAuth) -> None:
    another_course = ClassroomAuth(b"another course", LinkState.new(("alice",)))
    for cookie in ("alice", another_course.seat_cookie("alice"), auth.instructor_cookie()):
        client = classroom_app.test_client()
        client.set_cookie(SEAT_COOKIE, cookie)
        assert client.get("/seat/alice/").status_code == 403


def test_terminal_websocket_needs_that_seats_cookie(classroom_app: Flask, auth: ClassroomAuth) -> None:
    same_origin = {**WS_HEADERS, "Origin": "http://localhost"}
    other_seat = client_as(classroom_app, "alice", auth).get("/seat/bob/terminal", headers=same_origin)
    no_cookie = client_as(classroom_app, None, auth).get("/seat/bob/terminal", headers=same_origin)
    assert other_seat.status_code == 403 and no_cookie.status_code == 403
    assert classroom_app.extensions["dselab_terminals"].running("bob") is None, "no shell was started"


@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Origin": "http://localhost:9999"}, {"Sec-Fetch-Site": "cross-site"}])
def test_cross_origin_websocket_upgrade_is_refused(classroom_app: Flask, auth: ClassroomAuth,
                                                   headers: dict[str, str]) -> None:
    response = client_as(classroom_app, "alice", auth).get("/seat/alice/terminal", headers={**WS_HEADERS, **headers})
    assert response.status_code == 403
    assert "another" in response.get_data(as_text=True)
    assert classroom_app.extensions["dselab_terminals"].running("alice") is None


def test_foreign_host_is_refused_everywhere(classroom_app: Flask, auth: ClassroomAuth) -> None:
    client = client_as(classroom_app, "alice", auth)
    for path, headers in ((f"/join/{auth.join_token('alice')}", {}), ("/seat/alice/", {}),
                          ("/seat/alice/terminal", {**WS_HEADERS, "Origin": "http://evil.example"}),
                          (f"/instructor/login/{auth.instructor_token()}", {})):
        response = client.get(path, headers={**headers, "Host": "evil.example"})
        assert response.status_code == 400, path
        assert "Set-Cookie" not in response.headers


def test_instructor_pages_need_the_instructor_login(classroom_app: Flask, auth: ClassroomAuth) -> None:
    student = client_as(classroom_app, "alice", auth)
    assert student.get("/instructor").status_code == 403
    assert student.get("/instructor/api/terminals").status_code == 403
    assert student.get(f"/instructor/login/{auth.join_token('alice')}").status_code == 403
    instructor = classroom_app.test_client()
    login = instructor.get(f"/instructor/login/{auth.instructor_token()}")
    assert login.status_code == 200 and f"{INSTRUCTOR_COOKIE}=" in login.headers["Set-Cookie"]
    assert "SameSite=Strict" in login.headers["Set-Cookie"]
    overview = instructor.get("/instructor")
    assert overview.status_code == 200 and 'data-seat="alice"' in overview.get_data(as_text=True)
    assert instructor.get("/instructor/api/terminals").get_json()["seats"][0] == {
        "seat": "alice", "running": False, "attached": 0}
    assert instructor.get("/seat/alice/").status_code == 403, "the instructor cookie opens no seat"


# -- the real terminal over a real websocket ----------------------------------------------------------

SERVED_ORIGIN = "http://127.0.0.1"  # simple-websocket's client sends `Host: 127.0.0.1` without the port


def connect(url: str, seat: str, auth: ClassroomAuth, origin: str = SERVED_ORIGIN, cookie_seat: str = "") -> Client:
    ws_url = url.replace("http://", "ws://") + f"/seat/{seat}/terminal"
    return Client.connect(ws_url, headers={"Cookie": f"{SEAT_COOKIE}={auth.seat_cookie(cookie_seat or seat)}",
                                           "Origin": origin})


def nudge(ws: Client) -> None:
    """Make the shell print a prompt. simple-websocket's client leaves a frame that arrived in the same
    read as the handshake answer (the replay, sent at once) unread until more data comes."""
    ws.send(json.dumps({"type": "input", "data": "\r"}))


def receive_until(ws: Client, wanted: bytes, timeout: float = 10) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"{wanted!r} not seen in {seen[-400:]!r}"
        data = ws.receive(timeout=left)
        seen += data if isinstance(data, bytes) else (data or "").encode()
    return seen


def test_websocket_terminal_runs_commands_and_survives_a_dropped_connection(classroom_url: str,
                                                                           auth: ClassroomAuth) -> None:
    ws = connect(classroom_url, "alice", auth)
    ws.send(json.dumps({"type": "resize", "rows": 30, "cols": 100}))
    ws.send(json.dumps({"type": "input", "data": "stty size; echo hi-$((6*7))\r"}))
    assert b"30 100" in receive_until(ws, b"hi-42"), "stty ran first and saw the page's size"
    ws.send(json.dumps({"type": "input", "data": "sleep 2; echo done-$((1+1))\r"}))
    ws.close()  # the page goes away while the command runs
    time.sleep(3)
    again = connect(classroom_url, "alice", auth)
    nudge(again)
    assert b"done-2" in receive_until(again, b"done-2"), "the replay holds what ran while detached"
    again.close()


def test_real_websocket_from_another_origin_or_seat_is_refused(classroom_url: str, auth: ClassroomAuth) -> None:
    with pytest.raises(ConnectionError) as refused:
        connect(classroom_url, "alice", auth, origin="http://evil.example")
    assert refused.value.status_code == 403
    with pytest.raises(ConnectionError) as other_seat:
        connect(classroom_url, "bob", auth, cookie_seat="alice")
    assert other_seat.value.status_code == 403


def test_a_bad_message_closes_the_socket_but_not_the_shell(classroom_url: str, auth: ClassroomAuth) -> None:
    ws = connect(classroom_url, "bob", auth)
    ws.send(json.dumps({"type": "input", "data": "echo ready\r"}))
    receive_until(ws, b"ready")
    ws.send("not json")
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.receive(timeout=5)
    assert closed.value.reason == 1007 and "JSON" in closed.value.message
    again = connect(classroom_url, "bob", auth)
    nudge(again)
    assert b"ready" in receive_until(again, b"ready"), "the same shell, replayed"
    again.close()
