"""Gradebook input from students' hands: only regular files inside the given folders are read,
with a size cap; numbers that cannot be a score make a signed report malformed; names that are
not UTF-8 are shown with escapes. Each case uses a hand-made file; nothing may hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from dselab.grading.gradebook import Gradebook, check_report, gradebook, verify_report
from dselab.grading.gradebook_files import write_gradebook
from dselab.grading.report import Report, StepGrade
from dselab.grading.report_input import MAX_REPORT_BYTES
from dselab.grading.signing import signature_of

KEY = b"0123456789abcdef" * 4


def signed_report(student: str = "alice", **changes: Any) -> dict[str, Any]:
    """A signed two-step report (3 points of 3); `changes` replace top-level fields before signing."""
    steps = [StepGrade(id=sid, number=n, title=sid, status="pass", counted_from="now", points=w,
                               max_points=w, message="ok") for n, (sid, w) in enumerate([("snapshot", 2), ("list", 1)], 1)]
    report = Report(student=student, lab="05-backup-restore", lab_title="Backup & Restore", score=3,
                            max_score=3, graded_at="2025-01-10T10:00:00Z", cluster={}, steps=steps)
    data = {**report.to_dict(), **changes}
    data["signature"] = signature_of(data, KEY)
    return data


def write(path: Path, data: dict[str, Any] | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def within(seconds: float, fn: Any) -> Any:
    """fn() in a daemon thread: the test fails (instead of hanging) if it does not return in time."""
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.setdefault("value", fn()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds}s: it blocked"
    return box["value"]


def verdicts(book: Gradebook) -> dict[str, tuple[str, str]]:
    return {c.path.parent.name: (c.verdict, c.detail) for c in book.checked}


# -- what is read -------------------------------------------------------------------------------


def test_fifo_named_report_json_is_skipped_without_blocking(tmp_path: Path) -> None:
    write(tmp_path / "alice" / "report.json", signed_report())
    (tmp_path / "fifo").mkdir()
    os.mkfifo(tmp_path / "fifo" / "report.json")
    book = within(10, lambda: gradebook([tmp_path], KEY))
    assert verdicts(book)["fifo"] == ("malformed", "a FIFO, not a regular file; not read")
    assert [s.student for s in book.scores] == ["alice"]


def test_fifo_named_directly_on_the_command_line_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "report.json"
    os.mkfifo(fifo)
    proc = subprocess.run([sys.executable, "-m", "dselab", "gradebook", str(fifo), "--out", str(tmp_path / "b.csv")],
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr
    assert "flagged malformed" in proc.stdout and "a FIFO" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_symlink_to_dev_zero_is_not_followed_out_of_the_folder(tmp_path: Path) -> None:
    (tmp_path / "zero").mkdir()
    (tmp_path / "zero" / "report.json").symlink_to("/dev/zero")
    book = within(10, lambda: gradebook([tmp_path], KEY))
    verdict, detail = verdicts(book)["zero"]
    assert verdict == "malformed" and "a symlink leading outside" in detail and "/dev/zero" in detail


def test_device_named_directly_is_not_read(tmp_path: Path) -> None:
    link = tmp_path / "report.json"
    link.symlink_to("/dev/zero")
    (check,) = within(10, lambda: gradebook([link], KEY)).checked
    assert (check.verdict, check.detail) == ("malformed", "a character device, not a regular file; not read")


def test_symlink_to_a_report_outside_the_folder_is_refused_inside_it_is_read(tmp_path: Path) -> None:
    outside = write(tmp_path / "elsewhere" / "report.json", signed_report("mallory"))
    inside = write(tmp_path / "grades" / "bob" / "report.json", signed_report("bob"))
    (tmp_path / "grades" / "leak").mkdir()
    (tmp_path / "grades" / "leak" / "report.json").symlink_to(outside)
    (tmp_path / "grades" / "alias").mkdir()
    (tmp_path / "grades" / "alias" / "report.json").symlink_to(inside)
    book = gradebook([tmp_path / "grades"], KEY)
    found = verdicts(book)
    assert found["leak"][0] == "malformed" and "symlink leading outside" in found["leak"][1]
    assert len(book.valid) == 1 and [s.student for s in book.scores] == ["bob"]  # the alias is bob, once


def test_file_over_the_size_cap_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big" / "report.json"
    big.parent.mkdir()
    with big.open("wb") as fh:  # sparse: costs no disk
        fh.truncate(MAX_REPORT_BYTES + 1)
    verdict, detail = verdicts(gradebook([tmp_path], KEY))["big"]
    assert verdict == "malformed" and detail.startswith(f"larger than {MAX_REPORT_BYTES} bytes")


def test_folder_name_that_is_not_utf8_is_reported_not_fatal(tmp_path: Path) -> None:
    folder = os.path.join(os.fsencode(tmp_path), b"stud\xffent")
    os.mkdir(folder)
    write(Path(os.fsdecode(folder)) / "report.json", signed_report())
    book = gradebook([tmp_path], KEY)
    (check,) = book.checked
    assert check.verdict == "valid" and "not UTF-8" in check.detail
    assert check.shown_path.endswith("stud\\xffent/report.json")
    csv_text = write_gradebook(book, tmp_path / "book.csv").read_text(encoding="utf-8")
    html = write_gradebook(book, tmp_path / "book.html").read_text(encoding="utf-8")
    assert "stud\\xffent" in csv_text and "alice" in html

    proc = subprocess.run([sys.executable, "-m", "dselab", "gradebook", os.fsdecode(tmp_path), "--out",
                           str(tmp_path / "cli.csv"), "--key-file", str(write(tmp_path / "k", KEY.decode()))],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "note:" in proc.stdout and "stud\\xffent" in proc.stdout and "Traceback" not in proc.stderr


# -- numbers a signed report may carry ----------------------------------------------------------


@pytest.mark.parametrize(("raw_score", "why"), [
    ("true", "is not a number (True)"),
    ("NaN", "is not a finite number (nan)"),
    ("1e309", "is not a finite number (inf)"),
    ("-1", "is out of range (-1; allowed 0..3)"),
    ("4", "is out of range (4; allowed 0..3)"),
], ids=["true", "nan", "1e309", "negative", "above-max"])
def test_signed_report_with_a_score_that_is_not_a_score_is_malformed(tmp_path: Path, raw_score: str, why: str) -> None:
    value = json.loads(raw_score)  # what a reader gets back from the file: True, nan, inf, -1, 4
    data = signed_report(score=value)  # signed as such: only the numbers are wrong
    text = json.dumps(data).replace(f'"score": {json.dumps(value)}', f'"score": {raw_score}')
    path = write(tmp_path / "r" / "report.json", text)
    check = check_report(path, KEY)
    assert (check.verdict, check.detail) == ("malformed", f"field 'score' {why}")
    assert check.flagged and check.data == {}


@pytest.mark.parametrize(("field", "value", "why"), [
    ("points", True, "field 'points' is not a number (True)"),
    ("points", float("nan"), "field 'points' is not a finite number (nan)"),
    ("points", 3, "field 'points' is out of range (3; allowed 0..2)"),
    ("max_points", 1e309, "field 'max_points' is not a finite number (inf)"),
    ("number", 1.0, "field 'number' is not an integer (1.0)"),
])
def test_signed_report_with_a_bad_step_number_is_malformed(tmp_path: Path, field: str, value: Any, why: str) -> None:
    data = signed_report()
    data["steps"][0][field] = value
    data["signature"] = signature_of(data, KEY)
    check = check_report(write(tmp_path / "report.json", data), KEY)
    assert (check.verdict, check.detail) == ("malformed", f"step 1: {why}")


def test_verify_report_is_a_pure_function_of_data_and_key() -> None:
    assert verify_report(signed_report(), KEY) == ("valid", "signature verified")
    assert verify_report(signed_report(score=False), KEY)[0] == "malformed"
    assert verify_report(signed_report(), b"another key")[0] == "tampered"
