"""The web lab refuses what a hostile page could send: cross-site POSTs, form bodies, foreign Hosts;
and every response carries the security headers. Flask test client, no cluster."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, jsonify
from flask.testing import FlaskClient

from dselab import service
from dselab.check_engine import CheckResult
from dselab.lab import Lab, Step
from dselab.service import Workspace
from dselab.state import StateStore
from dselab.web import create_app
from dselab.web.headers import SECURITY_HEADERS
from dselab.web.hosts import served_names
from dselab.web.security import protect

ANSWER = "/api/labs/05/steps/size/answer"
CHECK = "/api/labs/05/steps/snapshot/check"
EVIL = "https://evil.example"
StubFactory = Callable[..., Callable[[], Workspace]]  # the conftest fixture


@pytest.fixture(autouse=True)
def test_lab_and_quick_checks(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers resolve to the test's lab; a check needs no cluster (what is tested is whether it runs)."""

    def check_one(ws: Workspace, lab: Lab, step: Step, source: str = "cli") -> CheckResult:
        return CheckResult(lab=lab.id, step=step.id, number=step.number, title=step.title,
                           status="fail", message="checked")

    monkeypatch.setattr(service, "get_lab", lambda ref: lab)
    monkeypatch.setattr(service, "check_one", check_one)


def no_answer_recorded(store_path: Path) -> bool:
    return not store_path.exists() or StateStore(store_path).answer("05-backup-restore", "size") is None


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},
    {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:3000"},  # another app on this machine
    {"Origin": "null"},  # sandboxed iframes and file:// pages
    {"Origin": "https://localhost"},  # same host, other scheme
])
@pytest.mark.parametrize("url", [ANSWER, CHECK])
def test_cross_site_posts_are_refused_and_change_nothing(client: FlaskClient, store_path: Path, url: str,
                                                         headers: dict[str, str]) -> None:
    response = client.post(url, json={"value": "1 KiB"}, headers=headers)
    assert response.status_code == 403
    assert "refused" in response.get_json()["message"]
    assert no_answer_recorded(store_path)


@pytest.mark.parametrize("body", [
    {"data": {"value": "1 KiB"}},  # what an HTML <form> posts (application/x-www-form-urlencoded)
    {"data": '{"value": "1 KiB"}', "content_type": "text/plain"},  # a form with enctype=text/plain
    {"data": {"value": "1 KiB"}, "content_type": "multipart/form-data"},
    {},  # no body at all
])
@pytest.mark.parametrize("url", [ANSWER, CHECK])
def test_state_changes_take_json_only(client: FlaskClient, store_path: Path, url: str, body: dict) -> None:
    response = client.post(url, **body)
    assert response.status_code == 415
    assert response.get_json()["message"] == "415 Unsupported Media Type: send JSON (Content-Type: application/json)"
    assert no_answer_recorded(store_path)


@pytest.mark.parametrize("headers", [
    {},  # curl, old browsers: no Origin, no Sec-Fetch-Site
    {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},  # what Chromium sends from the page
    {"Origin": "http://LOCALHOST:80"},
])
def test_same_origin_json_is_accepted(client: FlaskClient, store_path: Path, headers: dict[str, str]) -> None:
    response = client.post(ANSWER, json={"value": "1 KiB"}, headers=headers)
    assert response.status_code == 200 and response.get_json()["message"] == "checked"
    assert StateStore(store_path).answer("05-backup-restore", "size") == "1 KiB"
    assert client.post(CHECK, json={}, headers=headers).get_json()["message"] == "checked"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8055", "localhost.evil.example", "127.0.0.2",
                                  "[::2]:8055", "[::1", ""])
def test_foreign_host_is_refused_on_every_route(client: FlaskClient, store_path: Path, host: str) -> None:
    """DNS rebinding: a page at evil.example re-pointed to 127.0.0.1 reaches us with its own name."""
    for response in (client.get("/", headers={"Host": host}),
                     client.get("/api/status", headers={"Host": host}),
                     client.post(ANSWER, json={"value": "1 KiB"}, headers={"Host": host})):
        assert response.status_code == 400
        assert "is not served here" in response.get_data(as_text=True)
    assert no_answer_recorded(store_path)


@pytest.mark.parametrize("host", ["localhost", "localhost:8055", "127.0.0.1:8055", "[::1]:8055", "LocalHost."])
def test_loopback_names_are_served(client: FlaskClient, host: str) -> None:
    assert client.get("/", headers={"Host": host}).status_code == 200


def test_the_bound_address_and_allowed_names_are_served(stub_factory: StubFactory, lab: Lab) -> None:
    app = create_app(stub_factory(), labs=[lab],
                     allowed_hosts=served_names("127.0.63.1", ["lab.example.org"]))
    client = app.test_client()
    for host in ("127.0.63.1:8055", "lab.example.org", "localhost:8055"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host
    assert client.get("/", headers={"Host": "other.example.org"}).status_code == 400
    posted = client.post(ANSWER, json={"value": "x"},
                         headers={"Host": "lab.example.org", "Origin": "http://localhost"})
    assert posted.status_code == 403, "the Origin must match the Host the request names"


@pytest.mark.parametrize("path", ["/", "/labs/05/1", "/static/lab.js", "/api/status", "/no/such/page"])
def test_every_response_carries_the_security_headers(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_refusals_carry_the_security_headers_too(client: FlaskClient) -> None:
    for response in (client.get("/", headers={"Host": "evil.example"}),
                     client.post(CHECK, data="x"),
                     client.post(CHECK, json={}, headers={"Origin": EVIL})):
        assert response.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]


def test_pages_hold_no_inline_script_or_style(client: FlaskClient) -> None:
    """The CSP allows neither, so a page that had them would break in the browser."""
    for path in ("/", "/labs/05/", "/labs/05/1", "/labs/05/2", "/labs/99"):
        page = client.get(path).get_data(as_text=True)
        assert "<style" not in page and " style=" not in page, path
        scripts = page.count("<script")
        assert scripts == page.count('<script src="/static/'), path
        assert " onclick=" not in page and "javascript:" not in page, path


def test_protect_guards_any_flask_app() -> None:
    """The pieces are reusable: another lab server installs them with one call."""
    app = Flask(__name__)
    protect(app, served_names("127.0.0.1", ["class.example.org"]))

    @app.post("/api/change")
    def change():  # type: ignore[no-untyped-def]
        return jsonify(ok=True)

    @app.get("/download")
    def download():  # type: ignore[no-untyped-def]
        return "<style>td{}</style>", 200, {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"}

    client = app.test_client()
    assert client.post("/api/change", json={}, headers={"Host": "class.example.org"}).status_code == 200
    assert client.post("/api/change", json={}, headers={"Host": "evil.example"}).status_code == 400
    assert client.post("/api/change", json={}, headers={"Origin": EVIL}).status_code == 403
    assert client.post("/api/change", data={"a": "b"}).status_code == 415
    assert client.get("/download").headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert client.get("/download").headers["X-Frame-Options"] == "DENY"
