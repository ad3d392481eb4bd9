"""`dselab solve 05` on a real cluster, on a lab the student began: steps 1-3 done by hand
(lab_backup already exists), the resume starts at step 4 and finishes the lab. Also: a failed
solution command reports nodetool's reason line, solutions are safe to run again, and
`dselab logs` reads the node's log. The lab finished, it grades full marks, every step counted,
in a signed report that verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from dselab import service
from dselab.catalogue import get_lab
from dselab.errors import EnvironmentProblem
from dselab.grading.gradebook import check_report
from dselab.grading.report_files import write_report
from dselab.grading.run import grade

pytestmark = pytest.mark.integration
KEY = b"integration-test-course-key"


def passed(ws: service.Workspace, step: str) -> bool:
    (result,) = service.check(ws, "05", [step])
    return result.passed


def test_solve_resumes_after_the_steps_the_student_did(fresh_lab: service.Workspace, student, tmp_path: Path) -> None:
    ws = fresh_lab
    student.run("./scripts/nodetool.sh snapshot training -t lab_backup")
    assert passed(ws, "snapshot")
    row = next(line.split() for line in student.run("./scripts/nodetool.sh listsnapshots").splitlines()
               if line.startswith("lab_backup") and " orders " in line)
    student.run(f"dselab answer 05 2 '{row[5]} {row[6]}'")
    assert passed(ws, "list")
    student.run("./scripts/nodetool.sh enablebackup")
    assert passed(ws, "incremental")

    # The command that broke `solve` before: its error carries nodetool's reason, not a stack frame.
    with pytest.raises(EnvironmentProblem) as err:
        service.run_student_command("./scripts/nodetool.sh snapshot training -t lab_backup", student.settings)
    assert "already exists" in err.value.message and "Thread.java" not in err.value.message, err.value.message
    # Step 1's solution is now safe to run again, on a lab where lab_backup exists.
    code, out, errout = student.run_status("dselab solve 05 1")
    assert code == 0, out + errout

    code, out, errout = student.run_status("dselab solve 05")
    assert code == 0, out + errout
    assert "skipped (passed in this lab run): 1 (snapshot), 2 (list), 3 (incremental)" in out
    lab = get_lab("05")
    for step in lab.steps[3:]:
        assert f"PASS  step {step.number} ({step.id})" in out, out
    final = service.check_end_of_lab(ws, lab)
    assert final is not None and final.passed, final.message if final else None
    report = grade(ws, lab, "resumed", key=KEY)  # all done: every step counts with its full weight
    assert report.score == report.max_score, [(s.id, s.status, s.counted_from) for s in report.steps]
    assert all(g.counted_from and g.points == g.max_points for g in report.steps), report.steps
    assert report.cluster["nodes"] and report.cluster["cassandra_version"]
    assert check_report(write_report(report, tmp_path / "out")[0], KEY).verdict == "valid"

    code, out, _ = student.run_status("dselab solve 05")
    assert code == 0 and "nothing to solve" in out

    code, out, errout = student.run_status("dselab logs dse-seed -n 5")
    assert code == 0 and len(out.splitlines()) == 5, errout
    code, out, errout = student.run_status("dselab logs dse-node-1 --since-lab -n 0")
    assert code == 0 and "Cleanup" in out and "DEBUG" not in out, errout
