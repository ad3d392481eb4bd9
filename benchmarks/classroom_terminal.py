"""Time from starting the classroom server to a usable terminal in the browser, and keystroke echo.

    .venv/bin/python benchmarks/classroom_terminal.py      # prints a table, writes benchmarks/classroom_terminal.json

Each run starts the server in a fresh Python process (interpreter, imports, bind: what
`dselab classroom serve` will cost) with one seat whose shell is a plain bash in a temp folder, while
headless Chromium (already open, like a student's browser) opens the join link until the page loads;
the clock stops when `echo ready-$((6*7))` typed into the page terminal shows `ready-42`. Then:
keystroke echo (a key press to its character on screen) and a reload until the terminal is back.
No cluster is involved; figures depend on the machine and are reported, not asserted.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LinkState

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
KEY = b"benchmark course key 0123456789abcdef"
LINKS = LinkState("0" * 32, "1" * 32, {"s1": "2" * 32})  # fixed: the server process builds the same
SERVER = """
import os, sys
from pathlib import Path
from dselab.classroom.web.auth import ClassroomAuth
from dselab.classroom.web.links import LinkState
from dselab.classroom.web.server import make_classroom_server
from dselab.classroom.web.terminal import ShellSpec
folder = Path(sys.argv[2])
env = {"PATH": os.environ["PATH"], "TERM": "xterm-256color", "HOME": str(folder), "PS1": "seat$ "}
shell = ShellSpec(("bash", "--norc", "--noprofile", "-i"), folder, env)
auth = ClassroomAuth(sys.argv[3].encode(), LinkState("0" * 32, "1" * 32, {"s1": "2" * 32}))
make_classroom_server("127.0.0.1", int(sys.argv[1]), {"s1": shell}, auth).serve_forever()
"""
SHOWS = "t => (document.querySelector('.xterm-rows')?.textContent || '').includes(t)"  # a function: the CSP forbids eval


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def open_until_served(page, url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            page.goto(url)
            return
        except PlaywrightError:  # not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def one_run(browser, folder: str) -> dict[str, float]:
    port = free_port()
    join = f"http://127.0.0.1:{port}/join/{ClassroomAuth(KEY, LINKS).join_token('s1')}"
    page = browser.new_context().new_page()
    t0 = time.monotonic()
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), folder, KEY.decode()], cwd=REPO,
                              stderr=subprocess.DEVNULL)
    try:
        open_until_served(page, join)
        page.wait_for_selector("#terminal-state.up")
        page.click("#terminal")
        page.keyboard.type("echo ready-$((6*7))\n")
        page.wait_for_function(SHOWS, arg="ready-42")
        usable = time.monotonic() - t0

        echoes = []
        typed = "seat$ "
        for char in "abcdefghij":
            typed += char
            t1 = time.monotonic()
            page.keyboard.type(char)
            page.wait_for_function(SHOWS, arg=typed)
            echoes.append(time.monotonic() - t1)
        page.keyboard.press("Control+U")

        t2 = time.monotonic()
        page.reload()
        page.wait_for_selector("#terminal-state.up")
        page.wait_for_function(SHOWS, arg="ready-42")
        reattach = time.monotonic() - t2
        return {"usable_s": usable, "echo_ms": statistics.median(echoes) * 1000, "reattach_s": reattach}
    finally:
        page.context.close()
        server.terminate()
        server.wait(timeout=10)


def summary(values: list[float], digits: int = 2) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def main() -> None:
    runs = []
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as folder:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(RUNS):
            runs.append(one_run(browser, folder))
        browser.close()
    results = {"runs": RUNS,
               "server_start_to_usable_terminal_s": summary([r["usable_s"] for r in runs]),
               "keystroke_echo_ms": summary([r["echo_ms"] for r in runs], 1),
               "reload_to_terminal_back_s": summary([r["reattach_s"] for r in runs])}
    for name, value in results.items():
        print(f"{name:36} {value}")
    (REPO / "benchmarks" / "classroom_terminal.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
