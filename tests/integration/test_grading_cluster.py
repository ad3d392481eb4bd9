"""Grading on a real cluster: nothing done and half done score as the weights say (all done, the
full score with every step counted and a signed report that verifies, is the end of
test_solve_resume_cluster.py: that test has just finished the lab).

Uses the lead's fixtures (tests/integration/conftest.py): `fresh_lab` is a service.Workspace with
lab 05 freshly started and its previous state reset.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dselab import service
from dselab.catalogue import get_lab
from dselab.grading.gradebook import check_report
from dselab.grading.report import Report
from dselab.grading.report_files import write_report
from dselab.grading.run import grade
from dselab.lab import Step

pytestmark = [
    pytest.mark.integration,
]

LAB = "05"
KEY = b"integration-test-course-key"


def work_through(ws: service.Workspace, steps: list[Step]) -> None:
    """What a student does: carry out each step, then check it (that attempt is the run's history,
    which keeps credit for a step a later one undoes, e.g. clearing lab_backup after the snapshot)."""
    for step in steps:
        service.solve(ws, LAB, [step.id])
        service.check(ws, LAB, [step.id])


@pytest.mark.parametrize("done", ["nothing", "half"])
def test_grade_scores_follow_the_weights(fresh_lab: service.Workspace, done: str, tmp_path: Path) -> None:
    lab = get_lab(LAB)
    assert len(lab.steps) >= 2, "a partial score needs at least two steps"
    count = {"nothing": 0, "half": len(lab.steps) // 2}[done]
    work_through(fresh_lab, list(lab.steps[:count]))

    report = grade(fresh_lab, LAB, f"ci-{done}", key=KEY)

    expected = sum(step.weight for step in lab.steps[:count])
    assert (report.score, report.max_score) == (expected, lab.max_score), _summary(report)
    for graded, step in zip(report.steps, lab.steps, strict=True):
        is_done = step.number <= count
        assert bool(graded.counted_from) == is_done, _summary(report)
        assert graded.points == (step.weight if is_done else 0)
    if done == "nothing":
        assert report.score == 0
    else:
        assert 0 < report.score < report.max_score

    assert report.cluster["nodes"] and report.cluster["cassandra_version"]
    json_path = write_report(report, tmp_path / "out")[0]
    assert check_report(json_path, KEY).verdict == "valid"


def _summary(report: Report) -> str:
    return "; ".join(f"{s.number} {s.id}: {s.status} {s.counted_from} {s.points}/{s.max_points} {s.message}"
                     for s in report.steps)


def test_instructor_flow_through_the_cli(fresh_lab: service.Workspace, student, tmp_path: Path) -> None:
    """keygen, grade a student who took the snapshot, gradebook passes; an edited report is flagged."""
    key = tmp_path / "course.key"
    assert student.run_status(f"dselab keygen --out {key}")[0] == 0
    student.run("./scripts/nodetool.sh snapshot training -t lab_backup")

    code, out, err = student.run_status(f"dselab grade 05 --student ci-cli --out {tmp_path}/ci-cli --key-file {key}")
    assert code == 0, err
    assert "ci-cli:" in out
    report = json.loads((tmp_path / "ci-cli" / "report.json").read_text())
    first = report["steps"][0]
    assert (first["id"], first["status"]) == ("snapshot", "pass")
    assert any("lab_backup" in (e.get("stdout") or "") for e in first["evidence"]), "verdict rests on nodetool output"
    assert {"report.xml", "report.html"} <= {p.name for p in (tmp_path / "ci-cli").iterdir()}

    book = tmp_path / "book.csv"
    code, out, err = student.run_status(f"dselab gradebook {tmp_path}/ci-cli --out {book} --key-file {key}")
    assert code == 0, out + err
    assert "ci-cli" in book.read_text()

    report["steps"][1]["status"] = "pass"
    (tmp_path / "ci-cli" / "report.json").write_text(json.dumps(report))
    code, out, err = student.run_status(f"dselab gradebook {tmp_path}/ci-cli --out {book} --key-file {key}")
    assert code == 1
    assert "tampered" in out + err

    code, _, err = student.run_status("dselab grade 99 --student ci-cli")
    assert code == 2 and "Traceback" not in err and err.strip().count("\n") == 0
