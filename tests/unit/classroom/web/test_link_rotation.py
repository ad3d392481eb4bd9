"""The classroom server over the live link file: a rotation, an expiry or a new classroom takes effect
at the next request, and every link that opens nothing gets one and the same 403."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lab_server import COURSE_KEY
from simple_websocket import ConnectionClosed
from test_terminal_server import connect, receive_until

from dselab.classroom.layout import Layout
from dselab.classroom.web import links
from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LiveLinks
from dselab.classroom.web.server import create_classroom_app
from dselab.classroom.web.terminal import ShellSpec
from dselab.classroom.web.terminal_socket import CLOSE_SESSION_ENDED

SEATS = ("alice", "bob")


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "room")
    layout.server.mkdir(parents=True, mode=0o700)
    links.ensure(layout, (*SEATS, "carol"))  # carol: a link, but no seat served (removed)
    return layout


@pytest.fixture
def auth(layout: Layout) -> ClassroomAuth:
    return ClassroomAuth(COURSE_KEY, LiveLinks(layout.links_file))


@pytest.fixture
def app(auth: ClassroomAuth, tmp_path: Path) -> Iterator[Flask]:
    app = create_classroom_app({seat: ShellSpec(("true",), tmp_path, {}) for seat in SEATS}, auth)  # never run
    yield app
    app.extensions["dselab_terminals"].close()


def join(app: Flask, token: str) -> tuple[FlaskClient, int, bytes]:
    """A browser opening a join link: the client (with the cookie it got, if any), status, body."""
    client = app.test_client()
    response = client.get(f"/join/{token}")
    if response.status_code != 200:
        assert "Set-Cookie" not in response.headers
    return client, response.status_code, response.get_data()


def seat_page_status(client: FlaskClient, seat: str) -> int:
    return client.get(f"/seat/{seat}/").status_code


def test_rotate_voids_the_old_link_and_its_session_and_nothing_else(app: Flask, auth: ClassroomAuth,
                                                                    layout: Layout) -> None:
    old_token, bob_token = auth.join_token("alice"), auth.join_token("bob")
    alice, status, _ = join(app, old_token)
    bob, bob_status, _ = join(app, bob_token)
    assert status == bob_status == 200 and seat_page_status(alice, "alice") == 200

    links.rotate(layout, ["alice"])  # what `classroom links --rotate alice` does, the server still running

    _, status, body = join(app, old_token)
    _, _, forged_body = join(app, "0" * 32)
    assert status == 403 and body == forged_body
    assert seat_page_status(alice, "alice") == 403, "the leaked link's session ends too"
    assert alice.get("/seat/").status_code == 403
    fresh, status, _ = join(app, auth.join_token("alice"))
    assert status == 200 and seat_page_status(fresh, "alice") == 200
    assert seat_page_status(bob, "bob") == 200 and join(app, bob_token)[1] == 200


def test_unknown_forged_expired_rotated_and_removed_links_get_the_same_answer(app: Flask, auth: ClassroomAuth,
                                                                              layout: Layout) -> None:
    expired = auth.join_token("alice", int(time.time()) - 1)
    removed = auth.join_token("carol")
    rotated = auth.join_token("bob")
    links.rotate(layout, ["bob"])
    answers = {name: join(app, token)[1:] for name, token in (
        ("forged", "f" * 32), ("garbage", "nonsense"), ("expired", expired), ("removed seat", removed),
        ("rotated", rotated), ("expiry moved", f"{expired.partition('-')[0]}-zzzzzz"))}
    assert {status for status, _ in answers.values()} == {403}
    assert len({body for _, body in answers.values()}) == 1, answers
    assert b"alice" not in answers["expired"][1] and b"carol" not in answers["removed seat"][1]


def test_a_link_with_an_expiry_sets_a_cookie_that_ends_with_it(app: Flask, auth: ClassroomAuth) -> None:
    response = app.test_client().get(f"/join/{auth.join_token('alice', int(time.time()) + 600)}")
    assert response.status_code == 200
    max_age = int(response.headers["Set-Cookie"].split("Max-Age=")[1].split(";")[0])
    assert 590 <= max_age <= 600


def test_a_new_classroom_under_the_same_key_voids_every_link_and_cookie(app: Flask, auth: ClassroomAuth,
                                                                        layout: Layout) -> None:
    """`down --purge` removes server/ (links.json with it); the next `up` makes a new classroom id."""
    token, instructor_token = auth.join_token("alice"), auth.instructor_token()
    student, _, _ = join(app, token)
    instructor = app.test_client()
    assert instructor.get(f"/instructor/login/{instructor_token}").status_code == 200
    layout.links_file.unlink()
    links.ensure(layout, SEATS)
    assert join(app, token)[1] == 403 and seat_page_status(student, "alice") == 403
    assert instructor.get(f"/instructor/login/{instructor_token}").status_code == 403
    assert instructor.get("/instructor").status_code == 403


def test_rotating_the_instructor_voids_the_login_link_and_the_instructors_session(app: Flask, auth: ClassroomAuth,
                                                                                  layout: Layout) -> None:
    instructor, old_token = app.test_client(), auth.instructor_token()
    assert instructor.get(f"/instructor/login/{old_token}").status_code == 200
    assert instructor.get("/instructor").status_code == 200
    links.rotate_instructor(layout)
    assert instructor.get("/instructor").status_code == 403
    assert app.test_client().get(f"/instructor/login/{old_token}").status_code == 403
    again = app.test_client()
    assert again.get(f"/instructor/login/{auth.instructor_token()}").status_code == 200
    assert again.get("/instructor").status_code == 200


def test_a_rotation_ends_the_open_terminal_of_the_leaked_link_and_no_other(classroom_url: str, auth: ClassroomAuth,
                                                                          layout: Layout) -> None:
    """A real server and websockets: a page opened with the leaked link loses the shell within a poll."""
    leaked, other = connect(classroom_url, "alice", auth), connect(classroom_url, "bob", auth)
    for ws, word in ((leaked, b"alice-42"), (other, b"bob-42")):
        ws.send(json.dumps({"type": "input", "data": f"echo {word.decode()[:-3]}-$((6*7))\r"}))
        receive_until(ws, word)
    links.rotate(layout, ["alice"])
    deadline = time.monotonic() + 10
    with pytest.raises(ConnectionClosed) as closed:
        while time.monotonic() < deadline:
            leaked.receive(timeout=1)
    assert closed.value.reason == CLOSE_SESSION_ENDED and "join link" in closed.value.message
    other.send(json.dumps({"type": "input", "data": "echo still-$((1+1))\r"}))
    receive_until(other, b"still-2")
    other.close()
