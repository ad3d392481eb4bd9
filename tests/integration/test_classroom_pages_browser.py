"""The classroom's pages in real Chromium, no cluster: seats on the in-process fake backend (tests/unit/
classroom/fake_backend.py), each seat's terminal a plain bash in a temp folder. The real page, its CSS
and its terminal options, under the server's strict Content-Security-Policy (no console error).

- the seat page's terminal draws every glyph: a row of `_` lights about as many pixels as a row of `-`
  inside its own row (a pixel count of the screenshot, not a reading of the code);
- the step pane: code never sits under its Copy button; the pane is widened by dragging and keeps it;
- the instructor's evidence shows a command's output with real line breaks, no JSON punctuation;
- the class picture's counts equal the grid's after seats pass and fail steps.

Screenshots go to build/test-artifacts/ (docs/images/ holds copies).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from classroom_web import picture_matches_grid, row_pixels, shown_evidence, type_line, wait_for_text

from dselab.classroom import lifecycle, recording
from dselab.classroom.layout import Layout
from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LinkState
from dselab.classroom.web.server import make_classroom_server
from dselab.classroom.web.terminal import ShellSpec
from dselab.classroom.web.work import ClassroomWork
from threaded_server import serving

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit" / "classroom"))
from fake_backend import FakeBackend  # noqa: E402

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "test-artifacts"
SEATS = ("ana", "ben", "cy", "dee")
COURSE_KEY = b"browser test course key 0123456789"
AUTH = ClassroomAuth(COURSE_KEY, LinkState.new(SEATS))
LAB = "05-backup-restore"


def plain_bash(folder: Path) -> ShellSpec:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color", "HOME": str(folder),
           "PS1": "seat$ ", "LANG": "C.UTF-8"}
    return ShellSpec(("bash", "--norc", "--noprofile", "-i"), folder, env)


@dataclass
class Room:
    url: str
    backend: FakeBackend


@pytest.fixture
def room(tmp_path: Path) -> Iterator[Room]:
    """Four seats up on the fake backend, the classroom server with the lab on a free loopback port."""
    backend = FakeBackend(Layout(tmp_path / "room"))
    key_file = tmp_path / "course.key"
    key_file.write_bytes(COURSE_KEY)
    assert all(o.ok for o in lifecycle.up(list(SEATS), str(key_file), lambda line: None, "05", backend))
    scripts = tmp_path / "scripts"  # a stand-in for the seat's nodetool: what a snapshot prints
    scripts.mkdir()
    (scripts / "nodetool.sh").write_text(
        "#!/bin/sh\necho 'Requested creating snapshot(s) for [training] with snapshot name [lab_backup] "
        "and options {skipFlush=false}'\necho 'Snapshot directory: lab_backup'\n")
    (scripts / "nodetool.sh").chmod(0o755)
    shells = {seat: plain_bash(tmp_path) for seat in SEATS}
    server = make_classroom_server("127.0.0.1", 0, shells, AUTH, work=ClassroomWork(backend.layout, "05", backend))
    with serving(server) as url:
        yield Room(url, backend)


def _join(page, room: Room, seat: str, step: str = "snapshot") -> None:
    page.goto(f"{room.url}/join/{AUTH.join_token(seat)}")
    page.goto(f"{room.url}/seat/{seat}/labs/{LAB}/{step}")
    page.wait_for_selector("#terminal-state.up", timeout=15_000)
    wait_for_text(page, "seat$")


def test_the_seat_terminal_draws_underscores_inside_their_row(room: Room, browser_page, console_errors) -> None:
    page = browser_page
    _join(page, room, "ana")
    type_line(page, "clear; echo " + "_" * 40 + "; echo " + "-" * 40 + "; echo lab_backup")
    wait_for_text(page, "lab_backup" + "seat$")  # the rows' text, run together, then the prompt
    underscores, dashes = row_pixels(page, 0), row_pixels(page, 1)
    print(f"lit pixels: underscores {underscores}, dashes {dashes}")
    page.screenshot(path=str(ARTIFACTS / "classroom-glyphs.png"))
    assert dashes > 0
    assert underscores >= dashes / 2, (underscores, dashes)
    assert not console_errors, console_errors


OVERLAPS = """() => [...document.querySelectorAll('#seat-steps .codeblock')].filter(b => b.offsetParent).map(b => {
    const code = b.querySelector('pre').getBoundingClientRect(), copy = b.querySelector('.copy').getBoundingClientRect();
    return {code: b.querySelector('pre').textContent.slice(0, 60), overlap: code.right - copy.left};
})"""


def test_step_code_is_never_under_copy_and_the_pane_widens_and_remembers(room: Room, browser_page,
                                                                          console_errors) -> None:
    page = browser_page
    _join(page, room, "ana")
    page.click("details.solution summary")  # its code blocks too
    blocks = page.evaluate(OVERLAPS)
    assert any("lab_backup" in b["code"] for b in blocks), blocks
    assert all(b["overlap"] <= 0 for b in blocks), blocks  # the code's box ends before the button begins

    width = page.evaluate("() => document.getElementById('seat-steps').getBoundingClientRect().width")
    bar = page.locator("#seat-splitter").bounding_box()
    assert bar is not None
    x, y = bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 100, y, steps=5)
    page.mouse.up()
    widened = page.evaluate("() => document.getElementById('seat-steps').getBoundingClientRect().width")
    assert abs(widened - (width + 100)) <= 2, (width, widened)
    page.reload()
    page.wait_for_selector("#terminal-state.up", timeout=15_000)
    kept = page.evaluate("() => document.getElementById('seat-steps').getBoundingClientRect().width")
    assert abs(kept - widened) <= 2, (widened, kept)
    assert all(b["overlap"] <= 0 for b in page.evaluate(OVERLAPS))
    type_line(page, "./scripts/nodetool.sh snapshot training -t lab_backup")
    wait_for_text(page, "Snapshot directory: lab_backup")
    room.backend.passing.add(("ana", "snapshot"))
    page.click("#check-button")
    page.wait_for_selector("#check-result.pass", timeout=15_000)
    page.locator("#seat-steps .codeblock pre").nth(1).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "classroom-seat-page.png"))
    assert not console_errors, console_errors


def _check(room: Room, seat: str, step: str, passes: bool) -> None:
    if passes:
        room.backend.passing.add((seat, step))
    recording.check_seat(seat, "05", [step], room.backend)


def test_instructor_reads_evidence_and_the_class_picture_matches_the_grid(room: Room, browser_page,
                                                                          console_errors) -> None:
    _check(room, "ana", "snapshot", True)
    _check(room, "ana", "list", True)
    _check(room, "ben", "snapshot", False)
    _check(room, "ben", "snapshot", True)
    for _ in range(3):
        _check(room, "cy", "snapshot", False)  # stuck: the same step failed three times
    page = browser_page
    page.goto(f"{room.url}/instructor/login/{AUTH.instructor_token()}")
    page.wait_for_selector("#class-steps g.step-bar", state="attached", timeout=10_000)
    rows = {r["step"]: r["picture"] for r in picture_matches_grid(page, len(SEATS))}
    assert rows["snapshot"] == [2, 1, 1] and rows["list"] == [1, 0, 3]
    stuck = page.locator("#class-stuck li.stuck")
    assert stuck.count() == 1 and "cy" in stuck.inner_text() and "not yet" in stuck.inner_text()
    assert page.locator('#grid tr.stuck[data-seat="cy"]').count() == 1

    page.click('#grid tr[data-seat="cy"] td[data-step="snapshot"] button')
    body = page.locator("#evidence-body")
    body.locator(".attempt").first.wait_for()
    first = body.locator(".attempt").first
    assert first.locator(".verdict").inner_text().startswith("not yet: not yet")
    assert first.locator(".hint").inner_text() == "Hint: run <nodetool> & look"  # text, not markup
    term = first.locator("pre.ev-term").first
    assert term.inner_text() == "Snapshot Details:\n<script>lab_backup</script>"  # real line breaks, escaped
    assert "nodetool listsnapshots" in first.locator(".ev-head").first.inner_text()
    shown = shown_evidence(page)
    for punctuation in ('{"', '":', '\\\\n', '["'):
        assert punctuation not in shown, (punctuation, shown)
    assert first.locator("details.raw pre").text_content().lstrip().startswith("[")  # the raw JSON, one click away
    assert page.evaluate("() => document.querySelectorAll('#evidence-body script').length") == 0

    # live: the picture follows the grid's next poll
    _check(room, "dee", "snapshot", True)
    _check(room, "dee", "list", False)
    page.wait_for_function("() => document.querySelector('#class-steps g.step-bar[data-step=list]')"
                           ".dataset.trying === '1'", timeout=15_000)
    rows = {r["step"]: r["picture"] for r in picture_matches_grid(page, len(SEATS))}
    assert rows["snapshot"] == [3, 1, 0] and rows["list"] == [1, 1, 2]
    page.screenshot(path=str(ARTIFACTS / "classroom-instructor-grid.png"), full_page=True)
    assert not console_errors, console_errors
