"""The web lab end to end: headless Chromium against `dselab serve` on the real lab cluster.

Uses the lead's fixtures (tests/integration/conftest.py): `fresh_lab` is the session's
service.Workspace (lab_workspace) with lab 05 reset and started; `student.run(cmd)` types a command
in the repo root. Chromium comes from Debian (/usr/bin/chromium): Playwright downloads no browser.
Screenshots go to build/test-artifacts/.

The server sends its Content-Security-Policy, so an inline script or style the policy refuses, or
any failed request, shows as a console error in the lab's tab: every test ends with none.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dselab import service
from dselab.cli_web import make_web_server
from threaded_server import serving as serve_in_thread

CHECK_TIMEOUT_MS = 240_000  # a check runs several nodetool JVMs

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"  # browser_page (conftest) creates it

pytestmark = [
    pytest.mark.integration, pytest.mark.browser,
]


def serving(ws: service.Workspace) -> AbstractContextManager[str]:
    """`dselab serve` on a free port, in a thread, on the given workspace (its owner closes it)."""
    return serve_in_thread(make_web_server("127.0.0.1", 0, lambda: ws))


@pytest.fixture
def web_url(fresh_lab: service.Workspace) -> Iterator[str]:
    with serving(fresh_lab) as url:
        yield url


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def click_check(page, expect: str, shows_running: bool = True) -> str:
    """Click Check, see "Checking…" while it runs (a live check takes seconds), wait for the verdict;
    the message shown."""
    page.click("#check-button")
    if shows_running:
        page.wait_for_selector("#check-button:disabled", timeout=5_000)
        assert "Checking" in page.text_content("#check-button")
    page.wait_for_selector(f"#check-result.{expect}", timeout=CHECK_TIMEOUT_MS)
    assert page.is_enabled("#check-button")
    return page.text_content("#check-result .message") or ""


def test_check_fail_then_pass_and_progress_survives_reload(web_url: str, browser_page, student,
                                                           console_errors: list[str]) -> None:
    page = browser_page
    page.goto(f"{web_url}/labs/05/1")
    assert "Take a snapshot" in page.text_content("h1")
    page.wait_for_selector("#cluster-status.up", timeout=120_000)
    shot(page, "01-step1")

    message = click_check(page, "fail")
    assert message.strip(), "a failed check says what is missing"
    assert not page.is_visible('[data-step-id="snapshot"] .mark.passed')
    shot(page, "02-fail")

    student.run("./scripts/nodetool.sh snapshot training -t lab_backup")
    assert click_check(page, "pass").strip()
    page.wait_for_selector('[data-step-id="snapshot"] .mark.passed')
    shot(page, "03-pass")

    page.reload()
    page.wait_for_selector('[data-step-id="snapshot"] .mark.passed')
    assert "passed" in page.text_content("#check-result .verdict")
    assert (page.text_content("#progress-summary") or "").startswith("1 of ")
    page.click("details.solution summary")
    assert "snapshot training -t lab_backup" in page.text_content("details.solution code")
    shot(page, "04-reload")

    page.goto(f"{web_url}/labs/05/2")  # the answer form posts JSON; the check reads listsnapshots
    page.fill("#answer", "1 KiB")
    page.click("#answer-form button[type=submit]")
    page.wait_for_selector("#check-result.fail", timeout=CHECK_TIMEOUT_MS)
    assert "1 KiB" in page.text_content("#check-result .message")
    assert console_errors == []


def test_down_cluster_is_named_with_the_way_to_start_it(browser_page, tmp_path: Path, console_errors: list[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A real local runtime whose home has no cluster: the page says so and Check explains, no traceback."""
    monkeypatch.setenv("DSELAB_HOME", str(tmp_path / "empty-home"))
    ws = service.open_workspace("local")
    page = browser_page
    try:
        with serving(ws) as url:
            page.goto(f"{url}/labs/05/1")
            page.wait_for_selector("#cluster-status.down", timeout=60_000)
            assert "up-cluster.sh" in page.text_content("#cluster-status")
            message = click_check(page, "error", shows_running=False)
            assert "down" in message.lower() and "Traceback" not in page.content()
            shot(page, "05-cluster-down")
    finally:
        ws.close()
    assert console_errors == []


def attacker_page(lab_url: str) -> bytes:
    """Another site's page: on load, a form POST (what the issue saw change an answer) and a no-cors fetch."""
    answer = f"{lab_url}/api/labs/05/steps/list/answer"
    return f"""<!doctype html><html><body>
<form id="f" method="post" action="{answer}" enctype="text/plain">
<input name='{{"value": "pwned", "x": "' value='"}}'></form>
<script>
fetch("{lab_url}/api/labs/05/steps/1/check", {{method: "POST", mode: "no-cors", body: "{{}}",
      headers: {{"Content-Type": "text/plain"}}}}).finally(() => document.getElementById("f").submit());
</script></body></html>""".encode()


@contextmanager
def attacker_site(lab_url: str) -> Iterator[str]:
    """The attacker's page on another site (`localhost` while the lab is on 127.0.0.1)."""
    page = attacker_page(lab_url)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    with serve_in_thread(ThreadingHTTPServer(("127.0.0.1", 0), Handler), host="localhost") as url:
        yield url + "/"


def test_another_site_cannot_answer_or_check_but_the_page_can(browser_page, tmp_path: Path,
                                                             console_errors: list[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Chromium: a cross-site form POST and fetch are refused (403) and change nothing; the lab's
    own answer form, under its CSP, records the answer. No cluster needed: the check says it is down."""
    monkeypatch.setenv("DSELAB_HOME", str(tmp_path / "empty-home"))
    ws = service.open_workspace("local")
    page = browser_page
    try:
        with serving(ws) as url, attacker_site(url) as evil:
            other = page.context.browser.new_page()  # a tab of its own, like another site open in the browser
            refused = []
            other.on("response", lambda r: refused.append(r.status) if "/api/" in r.url else None)
            other.goto(evil)
            other.wait_for_url(f"{url}/api/**", timeout=30_000)  # the form's POST answered
            assert "request from another site refused" in (other.text_content("body") or "")
            assert 403 in refused
            assert ws.store.answer("05-backup-restore", "list") is None and ws.store.attempts("05-backup-restore") == []
            other.close()

            page.goto(f"{url}/labs/05/2")
            page.fill("#answer", "137.76 KiB")
            page.click("#answer-form button[type=submit]")
            page.wait_for_selector("#check-result.error", timeout=60_000)
            assert ws.store.answer("05-backup-restore", "list") == "137.76 KiB"
            shot(page, "06-answer-cluster-down")
    finally:
        ws.close()
    assert console_errors == []
