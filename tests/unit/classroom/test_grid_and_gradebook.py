"""The instructor's grid and the gradebook exports over seats brought up and checked on the fake
backend (no root): cells passed / failed / not tried, cluster health, and the gradebook as CSV, HTML
and a zip of reports signed with the course key, which `dselab gradebook --key-file` accepts."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path

import pytest
from fake_backend import FakeBackend
from flask import Flask
from lab_server import COURSE_KEY, as_instructor, lab_app

from dselab.classroom import gradebook, lifecycle, recording, registry
from dselab.classroom.layout import Layout
from dselab.classroom.web.seat_session import SeatSession
from dselab.classroom.web.work import ClassroomWork
from dselab.errors import EnvironmentProblem, UsageError
from dselab.grading.gradebook import gradebook as check_reports

SEATS = ("alice", "bob", "carol")


@pytest.fixture
def backend(tmp_path: Path) -> FakeBackend:
    """Three seats up, with the course key kept; alice passed snapshot after a failure, bob failed list."""
    backend = FakeBackend(Layout(tmp_path / "room"))
    key_file = tmp_path / "course.key"
    key_file.write_bytes(COURSE_KEY)
    assert all(o.ok for o in lifecycle.up(list(SEATS), str(key_file), lambda line: None, "05", backend))
    recording.check_seat("alice", "05", ["snapshot"], backend)
    backend.passing.add(("alice", "snapshot"))
    recording.check_seat("alice", "05", ["snapshot"], backend)
    recording.check_seat("bob", "05", ["list"], backend)
    return backend


@pytest.fixture
def work(backend: FakeBackend) -> ClassroomWork:
    return ClassroomWork(backend.layout, "05", backend)


def _cells(grid: dict, seat: str) -> dict[str, dict]:
    return {c["step"]: c for row in grid["seats"] if row["seat"] == seat for c in row["steps"]}


def test_the_grid_shows_passed_failed_and_not_tried(work: ClassroomWork) -> None:
    grid = work.grid()
    assert [row["seat"] for row in grid["seats"]] == list(SEATS)
    alice, bob = _cells(grid, "alice"), _cells(grid, "bob")
    assert alice["snapshot"]["state"] == "passed" and alice["snapshot"]["attempts"] == 2
    assert bob["list"]["state"] == "failed" and bob["list"]["last"]
    assert alice["list"]["state"] == "not tried" and alice["list"]["last"] is None
    assert {c["state"] for c in _cells(grid, "carol").values()} == {"not tried"}


def test_the_grids_class_picture_counts_its_cells(work: ClassroomWork) -> None:
    grid = work.grid()
    for counts in grid["summary"]["steps"]:
        states = [c["state"] for row in grid["seats"] for c in row["steps"] if c["step"] == counts["step"]]
        assert (counts["passed"], counts["trying"], counts["not_started"]) == (
            states.count("passed"), states.count("failed"), states.count("not tried"))
    assert [(c["seat"], c["step"]) for c in grid["summary"]["completions"]] == [("alice", "snapshot")]


def test_the_grid_shows_each_seats_health_once_known(work: ClassroomWork, backend: FakeBackend) -> None:
    backend.stop(registry.get(backend.layout, "bob"))
    deadline = time.monotonic() + 10  # health refreshes in the background
    while time.monotonic() < deadline:
        health = {row["seat"]: row["health"] for row in work.grid()["seats"]}
        if health["alice"].get("nodes"):
            break
        time.sleep(0.05)
    assert health["alice"]["up"] and {n["state"] for n in health["alice"]["nodes"]} == {"UN"}
    assert not health["bob"]["up"] and "down" in health["bob"]["message"]
    assert work.seat_health("carol")["up"]


def test_a_seats_page_checks_through_its_backend(work: ClassroomWork, backend: FakeBackend) -> None:
    step, session = work.lab.step("incremental"), SeatSession(work, "carol")
    assert session.check(work.lab, step)["status"] == "fail"
    backend.passing.add(("carol", "incremental"))
    assert session.check(work.lab, step)["status"] == "pass"
    backend.broken["carol"] = EnvironmentProblem("seat carol has no namespace (not up)")
    backend.broken_ops.add("observe")
    result = session.check(work.lab, step)  # an error result, never an exception
    assert result["status"] == "error" and "not up" in result["message"]
    assert _cells(work.grid(), "carol")["incremental"]["attempts"] == 2


def test_the_gradebook_csv_scores_every_seat(work: ClassroomWork) -> None:
    rows = list(csv.reader(io.StringIO(work.export("csv").decode())))
    scores = {row[0]: row for row in rows[1:rows.index([])]}
    assert set(scores) == set(SEATS)
    assert float(scores["alice"][2]) > 0 and float(scores["bob"][2]) == 0.0


def test_the_gradebook_html_and_the_signed_reports(work: ClassroomWork, tmp_path: Path) -> None:
    assert b"alice" in work.export("html") and b"<html" in work.export("html").lower()
    html = work.export("html").decode()
    # each student's steps as a person reads them: the command's output a terminal-like block with its
    # line breaks, the hint, the raw JSON a click away; the student's text escaped
    assert '<pre class="ev-term">Snapshot Details:\n&lt;script&gt;lab_backup&lt;/script&gt;</pre>' in html
    assert "Hint: run &lt;nodetool&gt; &amp; look" in html and "<summary>raw JSON</summary>" in html
    assert "<script>" not in html
    with zipfile.ZipFile(io.BytesIO(work.export("zip"))) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "unzipped")
    assert {n.split("/")[1] for n in names} == {f"{s}-05-backup-restore" for s in SEATS}
    book = check_reports([tmp_path / "unzipped"], COURSE_KEY)  # what `dselab gradebook --key-file` checks
    assert len(book.valid) == 3 and not book.flagged
    assert {s.student for s in book.scores} == set(SEATS)
    assert len(check_reports([tmp_path / "unzipped"], b"another key 0123456789abcdef0123").flagged) == 3


def test_one_seat_that_cannot_be_graded_does_not_cost_the_gradebook(backend: FakeBackend, tmp_path: Path) -> None:
    backend.broken["bob"] = RuntimeError("Symlink loop")
    backend.broken_ops.add("observe")
    said: list[str] = []
    book = gradebook.build(tmp_path / "book.csv", tmp_path / "reports", "05", None, said.append, backend)
    assert {s.student for s in book.scores} == {"alice", "carol"}
    assert "bob: not graded: unexpected RuntimeError: Symlink loop" in said


def test_no_course_key_no_gradebook(tmp_path: Path) -> None:
    backend = FakeBackend(Layout(tmp_path / "room"))
    lifecycle.up(["alice"], None, lambda line: None, "05", backend)
    with pytest.raises(UsageError, match="no course key"):
        ClassroomWork(backend.layout, "05", backend).export("csv")


@pytest.fixture
def app(work: ClassroomWork, backend: FakeBackend) -> Flask:
    return lab_app(backend.layout, work.shells(), backend)  # each seat's terminal: its backend's shell


def test_the_instructors_exports_over_the_web(app: Flask) -> None:
    client = as_instructor(app)
    response = client.get("/instructor/export/gradebook.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "alice" in response.get_data(as_text=True)
    assert client.get("/instructor/export/reports.zip").mimetype == "application/zip"
    grid = client.get("/instructor/api/grid").get_json()
    assert _cells(grid, "alice")["snapshot"]["state"] == "passed"
