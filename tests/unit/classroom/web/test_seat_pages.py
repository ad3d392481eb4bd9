"""A seat's lab pages in the classroom server: the step pages beside the terminal, Check and answers
on the server, progress, and a 403 for every other seat's page, check, answer, terminal or progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from lab_server import AUTH, SEATS, as_seat, registered_layout
from test_terminal_server import WS_HEADERS

from dselab.classroom.registry import get

STEP1 = "/labs/05-backup-restore/snapshot"
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def layout(tmp_path: Path):
    return registered_layout(tmp_path / "room", SEATS)


def test_the_seat_page_opens_the_first_step(app: Flask) -> None:
    response = as_seat(app, "unit-alice").get("/seat/unit-alice/")
    assert response.status_code == 302 and response.location.endswith(f"/seat/unit-alice{STEP1}")


def test_a_step_page_shows_the_step_beside_the_terminal_with_seat_scoped_calls(app: Flask) -> None:
    response = as_seat(app, "unit-alice").get(f"/seat/unit-alice{STEP1}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="terminal" data-socket-path="/seat/unit-alice/terminal"' in html
    assert 'data-url="/seat/unit-alice/api/labs/05-backup-restore/steps/snapshot/check"' in html
    assert "nodetool" in html and 'src="/static/lab.js"' in html
    assert AUTH.instructor_token() not in html
    assert "nonce-" in response.headers["Content-Security-Policy"]


def test_the_answer_step_has_its_answer_box_posting_to_the_seat(app: Flask) -> None:
    html = as_seat(app, "unit-alice").get("/seat/unit-alice/labs/05/list").get_data(as_text=True)
    assert 'data-url="/seat/unit-alice/api/labs/05-backup-restore/steps/list/answer"' in html


def test_check_runs_the_server_side_check_of_that_seat(app: Flask) -> None:
    """No namespace here: the real check_seat says the seat is not up, as a result, not a crash."""
    response = as_seat(app, "unit-alice").post("/seat/unit-alice/api/labs/05/steps/1/check", json={})
    assert response.status_code == 200
    result = response.get_json()
    assert result["status"] == "error" and "unit-alice" in result["message"] and "not up" in result["message"]


def test_progress_reads_the_servers_store_for_that_seat(app: Flask, layout) -> None:
    store = get(layout, "unit-alice").server_store()
    store.record_attempt("05-backup-restore", "snapshot", "pass", "ok", {}, source="web")
    store.close()
    mine = as_seat(app, "unit-alice").get("/seat/unit-alice/api/labs/05/progress").get_json()
    theirs = as_seat(app, "unit-bob").get("/seat/unit-bob/api/labs/05/progress").get_json()
    assert mine["passed"] == 1 and mine["steps"][0]["passed"]
    assert theirs["passed"] == 0


def test_an_empty_answer_is_refused_with_a_message(app: Flask) -> None:
    response = as_seat(app, "unit-alice").post("/seat/unit-alice/api/labs/05/steps/list/answer", json={"value": " "})
    assert response.status_code == 400 and "value" in response.get_json()["message"]


@pytest.mark.parametrize("method,path", [
    ("get", "/seat/unit-bob/"), ("get", f"/seat/unit-bob{STEP1}"), ("get", "/seat/unit-bob/labs/05/"),
    ("post", "/seat/unit-bob/api/labs/05/steps/snapshot/check"), ("post", "/seat/unit-bob/api/labs/05/steps/list/answer"),
    ("get", "/seat/unit-bob/api/labs/05/progress"), ("get", "/seat/unit-bob/api/status"),
])
def test_another_seats_pages_checks_answers_and_progress_are_403(app: Flask, method: str, path: str) -> None:
    response = getattr(as_seat(app, "unit-alice"), method)(path, json={"value": "x"} if method == "post" else None)
    assert response.status_code == 403


def test_another_seats_terminal_is_403(app: Flask) -> None:
    assert as_seat(app, "unit-alice").get("/seat/unit-bob/terminal", headers=WS_HEADERS).status_code == 403


def test_no_cookie_gets_403_on_a_seats_lab_routes(app: Flask) -> None:
    assert app.test_client().get(f"/seat/unit-alice{STEP1}").status_code == 403
    assert app.test_client().post("/seat/unit-alice/api/labs/05/steps/1/check", json={}).status_code == 403


def test_cross_site_check_is_refused_even_with_the_seats_cookie(app: Flask) -> None:
    client = as_seat(app, "unit-alice")
    other_origin = client.post("/seat/unit-alice/api/labs/05/steps/1/check", json={},
                               headers={"Origin": "http://evil.example"})
    cross_site = client.post("/seat/unit-alice/api/labs/05/steps/1/check", json={},
                             headers={"Sec-Fetch-Site": "cross-site"})
    form = client.post("/seat/unit-alice/api/labs/05/steps/1/check", data={"a": "b"})
    assert other_origin.status_code == 403 and cross_site.status_code == 403
    assert form.status_code == 415


def test_a_foreign_host_is_refused(app: Flask) -> None:
    response = as_seat(app, "unit-alice").get(f"/seat/unit-alice{STEP1}", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_another_lab_is_not_served(app: Flask) -> None:
    assert as_seat(app, "unit-alice").get("/seat/unit-alice/labs/99/1").status_code == 404


def test_behind_a_proxy_the_forwarded_https_origin_is_the_served_one(layout, lab_shells) -> None:
    """A TLS proxy forwards to plain HTTP: with --behind-proxy the browser's https Origin matches."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from dselab.classroom.web.server import create_classroom_app
    from dselab.classroom.web.work import ClassroomWork

    app = create_classroom_app(lab_shells, AUTH, allowed_hosts={"class.example"}, work=ClassroomWork(layout, "05"))
    headers = {"Origin": "https://class.example", "Host": "class.example"}
    check = "/seat/unit-alice/api/labs/05/steps/1/check"
    try:  # not trusted: the request is plain http here
        assert as_seat(app, "unit-alice", "class.example").post(check, json={}, headers=headers).status_code == 403
        app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # what --behind-proxy installs
        forwarded = {**headers, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "class.example"}
        assert as_seat(app, "unit-alice", "class.example").post(check, json={}, headers=forwarded).status_code == 200
    finally:
        app.extensions["dselab_terminals"].close()
