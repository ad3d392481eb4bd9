"""The progress display: live on a terminal, readable in a CI log."""

from __future__ import annotations

import io

from dselab.progress import Console


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_phase_not_one_per_second() -> None:
    out = io.StringIO()
    console = Console(out)
    for second in range(1, 6):
        console.step(f"waiting for dse-seed to listen for CQL ({second}s)")
    console.step("loading training.customers")
    console.done("dse-seed is up")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("(1s)") and "loading" in lines[1] and lines[2].startswith("✔")


def test_a_terminal_line_updates_in_place() -> None:
    out = Tty()
    console = Console(out)
    console.step("waiting (1s)")
    console.step("waiting (2s)")
    console.done("up")
    text = out.getvalue()
    assert text.count("\n") == 1 and text.count("\r\x1b[K") == 3 and "waiting (2s)" in text
