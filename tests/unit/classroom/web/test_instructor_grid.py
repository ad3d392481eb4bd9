"""The instructor's grid: students by steps from the server's stores, evidence per step, a reset that
needs a same-origin JSON confirmation, and none of it open to a student's cookie."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from flask import Flask
from lab_server import SEATS, as_instructor, as_seat, registered_layout

from dselab.classroom import lifecycle
from dselab.classroom.registry import get

LAB = "05-backup-restore"


@pytest.fixture
def layout(tmp_path: Path):
    layout = registered_layout(tmp_path / "room", SEATS)
    store = get(layout, "unit-alice").server_store()
    store.record_attempt(LAB, "snapshot", "fail", "no snapshot yet",
                         [{"node": "dse-seed", "command": "nodetool listsnapshots", "exit": 0, "stdout": "a\nb\n"}],
                         source="web", hint="nodetool snapshot training -t lab_backup")
    store.record_attempt(LAB, "snapshot", "pass", "snapshot lab_backup on every node", {"tag": "lab_backup"},
                         source="web")
    store.record_attempt(LAB, "incremental", "fail", "incremental backups are off", {}, source="web")
    store.close()
    return layout


def test_the_grid_shows_passed_failed_and_not_tried_with_attempts(app: Flask) -> None:
    grid = as_instructor(app).get("/instructor/api/grid").get_json()
    assert grid["lab"] == LAB and [s["id"] for s in grid["steps"]][:2] == ["snapshot", "list"]
    rows = {row["seat"]: {c["step"]: c for c in row["steps"]} for row in grid["seats"]}
    assert rows["unit-alice"]["snapshot"]["state"] == "passed" and rows["unit-alice"]["snapshot"]["attempts"] == 2
    assert rows["unit-alice"]["incremental"]["state"] == "failed" and rows["unit-alice"]["incremental"]["last"]
    assert rows["unit-alice"]["list"]["state"] == "not tried" and rows["unit-alice"]["list"]["last"] is None
    assert {c["state"] for c in rows["unit-bob"].values()} == {"not tried"}


def test_the_grid_page_polls_the_grid_and_offers_the_exports(app: Flask) -> None:
    html = as_instructor(app).get("/instructor").get_data(as_text=True)
    assert 'data-url="/instructor/api/grid"' in html and "instructor.js" in html
    assert "/instructor/export/gradebook.csv" in html and "/instructor/export/reports.zip" in html


def test_a_students_evidence_for_a_step(app: Flask) -> None:
    data = as_instructor(app).get("/instructor/api/seats/unit-alice/steps/snapshot").get_json()
    assert [a["status"] for a in data["attempts"]] == ["fail", "pass"]
    assert data["attempts"][1]["evidence"] == {"tag": "lab_backup"}
    first = data["attempts"][0]
    assert first["hint"] == "nodetool snapshot training -t lab_backup"
    assert first["blocks"] == [{"kind": "command", "node": "dse-seed", "command": "nodetool listsnapshots",
                                "exit": 0, "output": "a\nb"}]
    assert as_instructor(app).get("/instructor/api/seats/carol/steps/snapshot").status_code == 404


def test_a_reset_needs_the_seat_id_as_confirmation(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    resets: list[str] = []
    monkeypatch.setattr(lifecycle, "reset", lambda seat_id, say, lab, layout: resets.append(seat_id))
    client = as_instructor(app)
    assert client.post("/instructor/api/seats/unit-bob/reset", json={}).status_code == 400
    assert client.post("/instructor/api/seats/unit-bob/reset", json={"confirm": "unit-alice"}).status_code == 400
    assert client.post("/instructor/api/seats/unit-bob/reset", json={"confirm": "unit-bob"}).status_code == 202
    deadline = time.monotonic() + 5  # the reset runs in a thread
    while not resets and time.monotonic() < deadline:
        time.sleep(0.02)
    assert resets == ["unit-bob"]


def test_a_cross_site_or_form_reset_is_refused(app: Flask) -> None:
    client = as_instructor(app)
    assert client.post("/instructor/api/seats/unit-bob/reset", json={"confirm": "unit-bob"},
                       headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/instructor/api/seats/unit-bob/reset", data={"confirm": "unit-bob"}).status_code == 415


@pytest.mark.parametrize("method,path", [
    ("get", "/instructor"), ("get", "/instructor/api/grid"), ("get", "/instructor/api/seats/unit-alice/steps/snapshot"),
    ("post", "/instructor/api/seats/unit-bob/reset"), ("get", "/instructor/export/gradebook.csv"),
    ("get", "/instructor/export/reports.zip"),
])
def test_a_students_cookie_never_reaches_instructor_routes(app: Flask, method: str, path: str) -> None:
    response = getattr(as_seat(app, "unit-alice"), method)(path, json={"confirm": "unit-bob"} if method == "post" else None)
    assert response.status_code == 403


def test_an_unknown_export_is_404(app: Flask) -> None:
    assert as_instructor(app).get("/instructor/export/passwords.txt").status_code == 404
