"""The classroom's page terminal in real Chromium: join link, typing, and a reload that keeps the shell.

No cluster: the seat's terminal is a plain bash as the current user in a temp folder, so this runs
without the cluster lock. The server sends its Content-Security-Policy (nonce-stamped xterm styles,
no inline script): the tab ends with no console error. Screenshots go to build/test-artifacts/.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from classroom_web import type_line, wait_for_text

from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LinkState
from dselab.classroom.web.server import make_classroom_server
from dselab.classroom.web.terminal import ShellSpec
from threaded_server import serving

pytestmark = pytest.mark.browser

AUTH = ClassroomAuth(b"browser test course key 0123456789", LinkState.new(("ana", "ben")))
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"


def plain_bash(folder: Path) -> ShellSpec:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color", "HOME": str(folder),
           "PS1": "seat$ ", "LANG": "C.UTF-8"}
    return ShellSpec(("bash", "--norc", "--noprofile", "-i"), folder, env)


@pytest.fixture
def classroom(tmp_path: Path) -> Iterator[str]:
    """The classroom server with seats `ana` and `ben` on a free loopback port."""
    server = make_classroom_server("127.0.0.1", 0, {"ana": plain_bash(tmp_path), "ben": plain_bash(tmp_path)},
                                   AUTH)
    with serving(server) as url:
        yield url



def test_join_type_reload_and_the_running_command_finishes_on_the_page(classroom: str, browser_page,
                                                                        console_errors: list[str]) -> None:
    page = browser_page
    join = f"{classroom}/join/{AUTH.join_token('ana')}"
    # The link is clicked on another site (a mail, the course page): the Strict cookie must still work.
    page.set_content(f'<a id="join" href="{join}">join the class</a>')
    page.click("#join")
    page.wait_for_url(f"{classroom}/seat/ana/")
    page.wait_for_selector("#terminal-state.up", timeout=15_000)
    wait_for_text(page, "seat$")

    type_line(page, "echo hello $((6*7))")
    wait_for_text(page, "hello 42")
    page.screenshot(path=str(ARTIFACTS / "classroom-01-terminal.png"))

    type_line(page, "sleep 5; echo done-$((1+1))")
    time.sleep(0.5)  # the command has started on the server
    page.reload()
    page.wait_for_selector("#terminal-state.up", timeout=15_000)
    wait_for_text(page, "hello 42")  # the scrollback from before the reload
    assert "done-2" not in page.text_content(".xterm-rows"), "the reload happened while the command ran"
    wait_for_text(page, "done-2")
    page.screenshot(path=str(ARTIFACTS / "classroom-02-after-reload.png"))
    assert console_errors == [], "xterm.js runs under the page's CSP"

    # Another seat's page and terminal stay closed to this browser.
    assert page.goto(f"{classroom}/seat/ben/").status == 403
    assert page.goto(f"{classroom}/instructor").status == 403


def test_instructor_sees_which_seats_have_a_shell(classroom: str, chromium, console_errors: list[str]) -> None:
    student = chromium.new_context().new_page()
    student.goto(f"{classroom}/join/{AUTH.join_token('ben')}")
    student.wait_for_selector("#terminal-state.up", timeout=15_000)

    instructor = chromium.new_context().new_page()
    instructor.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    instructor.goto(f"{classroom}/instructor/login/{AUTH.instructor_token()}")
    instructor.wait_for_url(f"{classroom}/instructor")
    assert "running" in instructor.text_content('[data-seat="ben"]')
    assert "not started" in instructor.text_content('[data-seat="ana"]')
    instructor.screenshot(path=str(ARTIFACTS / "classroom-03-instructor.png"))
    assert console_errors == []
