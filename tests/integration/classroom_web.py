"""Helpers for driving `dselab classroom serve` from a test: the real command in a subprocess, its
printed addresses, and the page terminal in Chromium."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dselab.classroom.layout import ROOT_ENV

WS_HEADERS = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


@dataclass
class Serving:
    url: str
    instructor_link: str
    started_at: float  # monotonic, just before the command started


@contextmanager
def classroom_serve(root: Path, timeout_s: float = 60) -> Iterator[Serving]:
    """`dselab classroom serve --port 0` until the block ends (Ctrl+C: its shells are closed)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "dselab", "classroom", "serve", "--port", "0"],
                            env={**os.environ, ROOT_ENV: str(root)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        url = link = ""
        while not (url and link):
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"classroom serve ended: {proc.stderr.read() if proc.stderr else ''}")
            if m := re.match(r"Classroom server at (\S+)/ ", line):
                url = m.group(1)
            if m := re.match(r"Instructor \(keep it to yourself\): (\S+)", line):
                link = m.group(1)
            if time.monotonic() - started > timeout_s:
                raise AssertionError("classroom serve printed no address")
        yield Serving(url, link, started)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for_text(page, text: str, timeout_ms: int = 30_000) -> None:
    page.wait_for_function("t => (document.querySelector('.xterm-rows') || {}).textContent?.includes(t)",
                           arg=text, timeout=timeout_ms)


def type_line(page, line: str) -> None:
    page.click("#terminal")
    page.keyboard.type(line)
    page.keyboard.press("Enter")


def websocket_outcome(page, path: str) -> str:
    """What a websocket open from this page to `path` ends in: "open" or "closed <code>"."""
    return page.evaluate("""path => new Promise(done => {
        const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path);
        ws.onopen = () => { done('open'); ws.close(); };
        ws.onclose = e => done('closed ' + e.code);
    })""", path)


def row_pixels(page, row: int) -> int:
    """Lit pixels of one row of the page terminal, clipped to the row's own box."""
    from png_pixels import lit_pixels

    box = page.evaluate("""row => {
        const screen = document.querySelector('#terminal .xterm-screen').getBoundingClientRect();
        const line = document.querySelectorAll('#terminal .xterm-rows > div')[row].getBoundingClientRect();
        return {x: screen.left, y: line.top, width: screen.width, height: line.height};
    }""", row)
    return lit_pixels(page.screenshot(clip=box))


PICTURE_VS_GRID = """() => [...document.querySelectorAll('#class-steps g.step-bar')].map(g => {
    const cells = [...document.querySelectorAll(`#grid td[data-step="${g.dataset.step}"]`)].map(td => td.dataset.state);
    return {step: g.dataset.step,
            picture: [+g.dataset.passed, +g.dataset.trying, +g.dataset.notStarted],
            grid: ['passed', 'failed', 'not tried'].map(s => cells.filter(c => c === s).length)};
})"""


def picture_matches_grid(page, seats: int) -> list[dict]:
    """The class picture's bars (passed, trying, not started per step), each equal to its grid column."""
    rows = page.evaluate(PICTURE_VS_GRID)
    assert rows and all(r["picture"] == r["grid"] and sum(r["grid"]) == seats for r in rows), rows
    return rows


def shown_evidence(page) -> str:
    """What the evidence panel shows a person (the raw JSON fold left out)."""
    return page.evaluate("""() => { const b = document.getElementById('evidence-body').cloneNode(true);
        b.querySelectorAll('details.raw').forEach(d => d.remove()); return b.innerText; }""")
