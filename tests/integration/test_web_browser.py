"""The web lab end to end: headless Chromium against `dselab serve` on the real lab cluster.

Uses the lead's fixtures (tests/integration/conftest.py): `fresh_lab` is the session's
service.Workspace (lab_workspace) with lab 05 reset and started; `student.run(cmd)` types a command
in the repo root. Chromium comes from Debian (/usr/bin/chromium): Playwright downloads no browser.
Screenshots go to build/test-artifacts/.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dselab import paths, service
from dselab.cli_web import make_web_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = paths.REPO_ROOT / "build" / "test-artifacts"
CHECK_TIMEOUT_MS = 240_000  # a check runs several nodetool JVMs

pytestmark = [
    pytest.mark.integration, pytest.mark.browser,
]


@contextmanager
def serving(ws: service.Workspace) -> Iterator[str]:
    """`dselab serve` on a free port, in a thread, on the given workspace (its owner closes it)."""
    server = make_web_server("127.0.0.1", 0, lambda: ws)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def web_url(fresh_lab: service.Workspace) -> Iterator[str]:
    with serving(fresh_lab) as url:
        yield url


@pytest.fixture
def browser_page() -> Iterator[object]:
    if not CHROMIUM.exists():
        why = f"{CHROMIUM} is missing (apt-get install -y chromium); Playwright cannot download one here"
        if os.environ.get("DSELAB_REQUIRE_BROWSER") == "1":  # CI: a missing browser is a failure, not a skip
            pytest.fail(why)
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        yield tab
        browser.close()


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


def test_check_fail_then_pass_and_progress_survives_reload(web_url: str, browser_page, student) -> None:
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


def test_down_cluster_is_named_with_the_way_to_start_it(browser_page, tmp_path: Path,
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
