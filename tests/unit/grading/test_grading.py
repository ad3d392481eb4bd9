"""Grading without a cluster: a real StateStore in tmp_path, check results from a stub."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click import Context, Group, pass_context
from click.testing import CliRunner

from dselab import cli_grading, service, settings
from dselab.check_engine import CheckResult
from dselab.errors import UsageError
from dselab.grading.gradebook import ReportCheck, aggregate, check_report, gradebook, verify_report
from dselab.grading.gradebook_files import check_gradebook_out, write_gradebook
from dselab.grading.keys import KEY_ENV, keygen, load_key
from dselab.grading.report import Report, StepGrade, check_student
from dselab.grading.report_files import write_report
from dselab.grading.run import Checker, grade
from dselab.grading.signing import sign
from dselab.lab import Lab, Step
from dselab.state import StateStore

KEY = b"0123456789abcdef" * 4
OTHER_KEY = b"fedcba9876543210" * 4

LAB = Lab(
    id="05-backup-restore", number="05", title="Backup & Restore", summary="",
    steps=(
        Step(id="snapshot", number=1, title="Take a snapshot", body="", solution=(), weight=2),
        Step(id="incremental", number=2, title="Enable incremental backup", body="", solution=(), weight=1),
        Step(id="clear-backup", number=3, title="Clear lab_backup", body="", solution=(), weight=3),
    ),
)
ALL_PASS = {"snapshot": "pass", "incremental": "pass", "clear-backup": "pass"}


class StubRuntime:
    """Stands in for a cluster: only what the report's cluster section asks."""

    def node_names(self) -> list[str]:
        return ["dse-seed", "dse-node-1", "dse-node-2"]

    def cassandra_version(self) -> str:
        return "5.0.9"


def stub_checker(statuses: dict[str, str]) -> Checker:
    """A stub for the real checks: each step gets the given status (default fail), recorded like
    run_check records it."""

    def run(ws: service.Workspace, lab: Lab, source: str) -> list[CheckResult]:
        results = []
        for step in lab.steps:
            status = statuses.get(step.id, "fail")
            evidence = [{"node": "dse-seed", "command": f"nodetool check {step.id}",
                         "stdout": f"{status} now"}]
            result = CheckResult(lab=lab.id, step=step.id, number=step.number, title=step.title,
                                 status=status, message=f"{step.id} is {status}",
                                 hint="" if status == "pass" else f"redo {step.id}", evidence=evidence)
            ws.store.record_attempt(lab.id, step.id, status, result.message, evidence, source)
            results.append(result)
        return results

    return run


@pytest.fixture
def ws(tmp_path: Path) -> service.Workspace:
    store = StateStore(tmp_path / "state" / "state-stub.sqlite")
    store.start_run(LAB.id, {"log_marks": {}, "started_at": time.time() - 60})
    workspace = service.Workspace(runtime=StubRuntime(), store=store, runtime_name="stub")  # type: ignore[arg-type]
    yield workspace
    store.close()


def make_report(student: str, statuses: dict[str, str], graded_at: str = "2025-01-10T10:00:00Z",
                key: bytes | None = KEY) -> Report:
    """A report built by hand, no workspace involved."""
    steps = []
    for step in LAB.steps:
        status = statuses.get(step.id, "fail")
        steps.append(StepGrade(
            id=step.id, number=step.number, title=step.title, status=status,
            counted_from="now" if status == "pass" else None,
            points=step.weight if status == "pass" else 0, max_points=step.weight,
            message="ok" if status == "pass" else f"{step.id}: nothing found",
            evidence=[{"command": "nodetool listsnapshots", "stdout": "There are no snapshots"}],
        ))
    report = Report(
        student=student, lab=LAB.id, lab_title=LAB.title, score=sum(s.points for s in steps),
        max_score=LAB.max_score, graded_at=graded_at,
        cluster={"runtime": "stub", "cassandra_version": "5.0.9", "nodes": ["dse-seed"]}, steps=steps,
    )
    return sign(report, key) if key else report


def save(report: Report, root: Path, name: str | None = None) -> Path:
    return write_report(report, root / (name or report.student))[0]


# -- scores -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("statuses", "score"), [
    ({}, 0),
    ({"snapshot": "pass"}, 2),
    ({"snapshot": "pass", "incremental": "error"}, 2),
    ({"incremental": "pass", "clear-backup": "pass"}, 4),
    (ALL_PASS, 6),
])
def test_score_comes_from_step_weights(ws: service.Workspace, statuses: dict[str, str], score: int) -> None:
    report = grade(ws, LAB, "alice", checker=stub_checker(statuses))
    assert (report.score, report.max_score) == (score, 6)
    for step, lab_step in zip(report.steps, LAB.steps, strict=True):
        passed = statuses.get(step.id) == "pass"
        assert step.points == (lab_step.weight if passed else 0)
        assert step.max_points == lab_step.weight
        assert step.counted_from == ("now" if passed else None)
        assert step.status == statuses.get(step.id, "fail")


def test_report_has_cluster_and_times(ws: service.Workspace) -> None:
    data = grade(ws, LAB, "alice", checker=stub_checker({})).to_dict()
    assert data["cluster"] == {"runtime": "stub", "cassandra_version": "5.0.9",
                               "nodes": ["dse-seed", "dse-node-1", "dse-node-2"]}
    assert data["graded_at"].endswith("Z") and data["run_started_at"].endswith("Z")
    assert data["signature"] is None
    assert data["steps"][0]["evidence"][0]["command"] == "nodetool check snapshot"


def test_history_counts_a_step_that_no_longer_passes(ws: service.Workspace) -> None:
    old = [{"node": "dse-seed", "listing": "training", "files": ["snapshots/lab_backup/x-Data.db (10 B)"]}]
    ws.store.record_attempt(LAB.id, "snapshot", "fail", "no snapshot yet", [], "cli")
    ws.store.record_attempt(LAB.id, "snapshot", "pass", "snapshot lab_backup found", old, "web")
    report = grade(ws, LAB, "alice", checker=stub_checker({"clear-backup": "pass"}))
    snap = report.steps[0]
    assert (snap.status, snap.counted_from, snap.points) == ("fail", "history", 2)
    assert snap.evidence == old  # the verdict rests on the passing attempt's evidence
    assert snap.evidence_now[0]["stdout"] == "fail now"
    assert snap.passed_at and snap.passed_at.endswith("Z")
    assert [(h["status"], h["source"]) for h in snap.history] == [("fail", "cli"), ("pass", "web")]
    assert report.score == 2 + 3


def test_attempts_before_the_lab_started_do_not_count(ws: service.Workspace) -> None:
    ws.store.record_attempt(LAB.id, "snapshot", "pass", "found", [], "cli")
    ws.store.start_run(LAB.id, {"log_marks": {}, "started_at": time.time() + 1})
    report = grade(ws, LAB, "alice", checker=stub_checker({}))
    assert report.steps[0].counted_from is None and report.score == 0
    assert report.steps[0].history == []


def test_grading_keeps_going_and_records_its_own_attempts(ws: service.Workspace) -> None:
    grade(ws, LAB, "alice", checker=stub_checker({"clear-backup": "pass"}))
    attempts = ws.store.attempts(LAB.id)
    assert [a["step"] for a in attempts] == ["snapshot", "incremental", "clear-backup"]
    assert {a["source"] for a in attempts} == {"grade"}


# -- report files -------------------------------------------------------------------------------


def test_write_report_json_xml_html(ws: service.Workspace, tmp_path: Path) -> None:
    checker = stub_checker({"snapshot": "pass", "incremental": "error"})
    report = grade(ws, LAB, "alice", checker=checker, key=KEY)
    paths = write_report(report, tmp_path / "out")
    assert [p.name for p in paths] == ["report.json", "report.xml", "report.html"]

    data = json.loads(paths[0].read_text())
    for name in ("student", "lab", "lab_title", "score", "max_score", "graded_at", "cluster", "steps",
                 "signature"):
        assert name in data
    for name in ("id", "number", "title", "status", "counted_from", "points", "max_points", "message",
                 "hint", "evidence", "history"):
        assert name in data["steps"][0]

    suite = ET.parse(paths[1]).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == LAB.id and suite.get("tests") == "3"
    assert suite.get("failures") == "2"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert (props["score"], props["max_score"], props["student"]) == ("2", "6", "alice")
    cases = suite.findall("testcase")
    assert cases[0].find("failure") is None
    assert cases[1].find("failure").get("message") == "incremental is error"  # type: ignore[union-attr]
    assert cases[2].find("failure").get("type") == "fail"  # type: ignore[union-attr]

    page = paths[2].read_text()
    assert "alice" in page and "2 / 6" in page and "<details>" in page
    assert "nodetool check snapshot" in page


def test_html_and_xml_escape_what_the_cluster_printed(tmp_path: Path) -> None:
    report = make_report("alice", {})
    report.steps[0].message = "<script>alert(1)</script>"
    report.steps[0].evidence = [{"stdout": "<b>bold</b> \x07bell"}]
    json_path, xml_path, html_path = write_report(report, tmp_path / "out")
    page = html_path.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page and "&lt;b&gt;bold" in page
    ET.parse(xml_path)  # control characters do not break the XML


# -- signing ------------------------------------------------------------------------------------


def test_signature_verifies_and_ignores_formatting(tmp_path: Path) -> None:
    path = save(make_report("alice", ALL_PASS), tmp_path)
    assert check_report(path, KEY).verdict == "valid"
    data = json.loads(path.read_text())
    path.write_text(json.dumps(dict(reversed(list(data.items()))), indent=7))  # same content
    assert check_report(path, KEY).verdict == "valid"


@pytest.mark.parametrize("edit", [
    lambda d: d["steps"][0].update(status="pass"),
    lambda d: d["steps"][1].update(points=0),
    lambda d: d["steps"][0]["evidence"][0].update(stdout="snapshot lab_backup"),
    lambda d: d.update(score=6),
    lambda d: d.update(student="mallory"),
    lambda d: d["cluster"].update(nodes=[]),
    lambda d: d.update(extra="field"),
], ids=["status", "points", "evidence", "score", "student", "cluster", "added-field"])
def test_any_edit_makes_a_report_tampered(tmp_path: Path, edit: Any) -> None:
    path = save(make_report("alice", {"incremental": "pass"}), tmp_path)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    check = check_report(path, KEY)
    assert check.verdict == "tampered" and check.flagged


def test_another_key_is_tampered(tmp_path: Path) -> None:
    path = save(make_report("alice", ALL_PASS, key=OTHER_KEY), tmp_path)
    assert check_report(path, KEY).verdict == "tampered"


def test_unsigned_and_unverified_are_flagged_and_never_counted(tmp_path: Path) -> None:
    save(make_report("alice", ALL_PASS, key=None), tmp_path)
    save(make_report("bob", ALL_PASS), tmp_path)
    book = gradebook([tmp_path], KEY)
    assert {c.data["student"]: c.verdict for c in book.checked} == {"alice": "unsigned", "bob": "valid"}
    assert [s.student for s in book.scores] == ["bob"]

    book = gradebook([tmp_path], None)
    assert {c.verdict for c in book.checked} == {"unsigned", "unverified"}
    assert len(book.flagged) == 2 and book.scores == [] and book.steps == []


def test_load_key_from_file_or_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert load_key(None) is None
    monkeypatch.setenv(KEY_ENV, "  env-key\n")
    assert load_key(None) == b"env-key"
    key_file = keygen(tmp_path / "course.key")
    assert load_key(key_file) == key_file.read_text().strip().encode()  # the file wins
    (tmp_path / "empty.key").write_text("\n")
    with pytest.raises(UsageError, match="empty"):
        load_key(tmp_path / "empty.key")
    with pytest.raises(UsageError, match="cannot read key file"):
        load_key(tmp_path / "missing.key")


def test_keygen_writes_0600_and_refuses_to_overwrite(tmp_path: Path) -> None:
    path = keygen(tmp_path / "course.key")
    text = path.read_text().strip()
    assert len(text) == 64 and bytes.fromhex(text)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(UsageError, match="already exists"):
        keygen(path)
    assert path.read_text().strip() == text


# -- gradebook ----------------------------------------------------------------------------------


def test_malformed_reports_are_named_and_the_rest_still_counted(tmp_path: Path) -> None:
    save(make_report("alice", ALL_PASS), tmp_path)
    broken = tmp_path / "broken" / "report.json"
    broken.parent.mkdir()
    broken.write_text("{not json")
    missing = tmp_path / "missing" / "report.json"
    missing.parent.mkdir()
    data = make_report("carol", {}).to_dict()
    del data["score"]
    missing.write_text(json.dumps(data))
    (tmp_path / "list" / "report.json").parent.mkdir()
    (tmp_path / "list" / "report.json").write_text("[1, 2]")

    book = gradebook([tmp_path], KEY)
    verdicts = {c.path.parent.name: (c.verdict, c.detail) for c in book.checked}
    assert verdicts["broken"] == ("malformed", "not valid JSON (line 1, column 2)")
    assert verdicts["missing"] == ("malformed", "missing or invalid field 'score'")
    assert verdicts["list"][0] == "malformed"
    assert verdicts["alice"][0] == "valid"
    assert [(s.student, s.score) for s in book.scores] == [("alice", 6)]


def test_gradebook_csv_scores_pass_rates_and_common_failures(tmp_path: Path) -> None:
    save(make_report("alice", {"snapshot": "pass", "incremental": "pass"}, "2025-01-10T09:00:00Z"),
         tmp_path, "alice-old")
    save(make_report("alice", ALL_PASS, "2025-01-10T11:00:00Z"), tmp_path, "alice-new")
    save(make_report("bob", {"snapshot": "pass"}), tmp_path)
    carol = make_report("carol", {}, key=None)
    carol.steps[0].message = "snapshot lab_backup missing on dse-node-2"
    sign(carol, KEY)
    save(carol, tmp_path)
    save(make_report("dave", ALL_PASS, key=OTHER_KEY), tmp_path)  # tampered: not counted

    book = gradebook([tmp_path], KEY)
    out = write_gradebook(book, tmp_path / "book.csv")
    scores, steps, flagged = (list(csv.reader(io.StringIO(part)))
                              for part in out.read_text().split("\n\n"))

    assert scores[0][:5] == ["student", "lab", "score", "max_score", "percent"]
    assert [(r[0], r[2], r[3]) for r in scores[1:]] == [("alice", "6", "6"), ("bob", "2", "6"),
                                                       ("carol", "0", "6")]
    rows = {r[1]: r for r in steps[1:]}
    assert rows["snapshot"][4:7] == ["2", "3", "66.7"]
    assert rows["snapshot"][7:] == ["snapshot lab_backup missing on dse-node-2", "1"]
    assert rows["incremental"][4:] == ["1", "3", "33.3", "incremental: nothing found", "2"]
    assert rows["clear-backup"][4:] == ["1", "3", "33.3", "clear-backup: nothing found", "2"]
    assert [(r[1], Path(r[0]).parent.name) for r in flagged[1:]] == [("tampered", "dave")]


def test_gradebook_html(tmp_path: Path) -> None:
    save(make_report("alice", ALL_PASS), tmp_path)
    bob = make_report("bob", {}, key=None)
    bob.steps[0].message = "<img src=x onerror=alert(1)>"
    sign(bob, KEY)
    save(bob, tmp_path)
    save(make_report("eve", ALL_PASS, key=None), tmp_path)
    page = write_gradebook(gradebook([tmp_path], KEY), tmp_path / "book.html").read_text()
    assert "<td>alice</td>" in page and "<td>bob</td>" in page
    assert "50.0" in page  # pass rate of every step: alice yes, bob no
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page
    assert "unsigned" in page and "eve" in page


def test_aggregate_works_on_report_data_without_files() -> None:
    """A server holding reports as data (the classroom) verifies and aggregates them with no files."""
    checked = []
    for report in (make_report("alice", ALL_PASS), make_report("bob", {}, key=None)):
        data = json.loads(json.dumps(report.to_dict()))
        verdict, detail = verify_report(data, KEY)
        checked.append(ReportCheck(Path(f"store:{data['student']}"), verdict, detail, data))
    book = aggregate(checked)
    assert [(s.student, s.score) for s in book.scores] == [("alice", 6)]
    assert [c.data["student"] for c in book.flagged] == ["bob"]


def test_gradebook_accepts_files_and_dirs_once(tmp_path: Path) -> None:
    path = save(make_report("alice", ALL_PASS), tmp_path)
    book = gradebook([path, tmp_path], KEY)
    assert len(book.checked) == 1


def test_gradebook_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file or directory"):
        gradebook([tmp_path / "nowhere"], KEY)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no report.json found"):
        gradebook([tmp_path / "empty"], KEY)
    with pytest.raises(UsageError, match=r"\.csv or \.html"):
        check_gradebook_out(tmp_path / "book.txt")


# -- student ids and the CLI --------------------------------------------------------------------


@pytest.mark.parametrize("student", ["../x", "a;b", "", "a" * 65, "a b", "x\n", "é"])
def test_bad_student_ids_are_refused(ws: service.Workspace, student: str) -> None:
    with pytest.raises(UsageError, match="invalid student id"):
        grade(ws, LAB, student, checker=stub_checker({}))


def test_unknown_lab_is_a_usage_error(ws: service.Workspace) -> None:
    with pytest.raises(UsageError):
        grade(ws, "99", "alice", checker=stub_checker({}))


@pytest.mark.parametrize("student", ["alice", "s123", "A.B_c-d", "a" * 64])
def test_good_student_ids(student: str) -> None:
    assert check_student(student) == student


def cli() -> Group:
    """The grading commands on a group that loads the settings as `dselab` does."""
    group = Group("dselab", callback=pass_context(load_settings))
    cli_grading.register(group)
    return group


def load_settings(ctx: Context) -> None:
    ctx.obj = settings.current()


def test_cli_grade_keygen_and_gradebook(ws: service.Workspace, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_grading.service, "open_workspace", lambda *a, **k: ws)
    monkeypatch.setattr(cli_grading, "get_lab", lambda ref: LAB)
    monkeypatch.setattr("dselab.grading.run._run_all_checks", stub_checker({"snapshot": "pass"}))
    monkeypatch.setattr(ws, "close", lambda: None)
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    assert runner.invoke(cli(), ["keygen"]).exit_code == 0
    again = runner.invoke(cli(), ["keygen"])
    assert isinstance(again.exception, UsageError)

    result = runner.invoke(cli(), ["grade", "05", "--student", "alice", "--key-file", "course.key"])
    assert result.exit_code == 0, result.output
    assert "alice: 2/6" in result.output
    assert (tmp_path / "grades" / "alice-05-backup-restore" / "report.json").exists()

    result = runner.invoke(cli(), ["gradebook", "grades", "--out", "book.csv", "--key-file", "course.key"])
    assert result.exit_code == 0, result.output

    runner.invoke(cli(), ["grade", "05", "--student", "bob"])  # unsigned
    result = runner.invoke(cli(), ["gradebook", "grades", "--out", "book.html", "--key-file", "course.key"])
    assert result.exit_code == 1
    assert "flagged unsigned" in result.output and "bob-05-backup-restore" in result.output

    bad = runner.invoke(cli(), ["grade", "05", "--student", "../x"])
    assert isinstance(bad.exception, UsageError)
