"""The grading run: a lab's checks as a report, crediting each step by weight.

A step counts when its check passes now or passed during the run (a later step may legitimately
undo an earlier state: clearing lab_backup in step 4 undoes step 1). Nothing here prints.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from dselab import service
from dselab.catalogue import get_lab
from dselab.check_engine import ERROR, PASS, CheckResult, run_checks
from dselab.errors import DselabError
from dselab.grading.report import HISTORY, NOW, Report, StepGrade, check_student, iso
from dselab.grading.signing import sign
from dselab.lab import Lab, Step
from dselab.state import Attempt

# How grade() gets the lab's check results; tests pass a stub instead of a real cluster.
Checker = Callable[[service.Workspace, Lab, str], list[CheckResult]]


def _plain(value: Any) -> Any:
    """JSON-safe copy, so what is signed is exactly what is written."""
    return json.loads(json.dumps(value, default=str))


def _run_all_checks(ws: service.Workspace, lab: Lab, source: str) -> list[CheckResult]:
    return run_checks(service.context(ws, lab), lab.steps, source)


def _cluster_info(ws: service.Workspace) -> dict[str, Any]:
    info: dict[str, Any] = {"runtime": ws.runtime_name, "cassandra_version": None, "nodes": []}
    try:
        info["cassandra_version"] = ws.runtime.cassandra_version()
        info["nodes"] = list(ws.runtime.node_names())
    except DselabError as err:  # a cluster that is down still gets a report: its checks say why
        info["error"] = err.message
    except Exception as err:  # noqa: BLE001  (a runtime surprise must not cost the student a report)
        info["error"] = f"{type(err).__name__}: {err}"
    return info


def _grade_step(step: Step, result: CheckResult | None, attempts: Sequence[Attempt]) -> StepGrade:
    if result is None:
        result = CheckResult(lab="", step=step.id, number=step.number, title=step.title,
                             status=ERROR, message="the check produced no result")
    passing = [a for a in attempts if a["status"] == PASS]
    counted_from, evidence, evidence_now, passed_at = None, result.evidence, [], None
    if result.passed:
        counted_from = NOW
    elif passing:
        counted_from, evidence, evidence_now = HISTORY, passing[-1]["evidence"], result.evidence
        passed_at = iso(passing[-1]["at"])
    return StepGrade(
        id=step.id, number=step.number, title=step.title, status=result.status,
        counted_from=counted_from, points=step.weight if counted_from else 0, max_points=step.weight,
        message=result.message, hint=result.hint, evidence=_plain(evidence),
        evidence_now=_plain(evidence_now), passed_at=passed_at,
        history=[{"status": a["status"], "message": a["message"], "at": iso(a["at"]),
                  "source": a["source"]} for a in attempts],
    )


def grade(ws: service.Workspace, lab_ref: str | Lab, student: str, source: str = "grade", *,
          key: bytes | None = None, checker: Checker | None = None) -> Report:
    """Run every check of the lab (past failures) and credit each step by weight."""
    check_student(student)
    lab = lab_ref if isinstance(lab_ref, Lab) else get_lab(lab_ref)
    started_at = ws.store.run_started_at(lab.id)
    history = ws.store.attempts(lab.id, since=started_at)  # read before this grading's own attempts
    cluster = _cluster_info(ws)
    results = (checker or _run_all_checks)(ws, lab, source)
    report = report_from(lab, student, started_at, history, results, cluster, source)
    return sign(report, key) if key else report


def report_from(lab: Lab, student: str, started_at: float, history: Sequence[Attempt],
                results: list[CheckResult], cluster: dict[str, Any], source: str) -> Report:
    """The report of one grading run: `results` of now, `history` of the lab run (attempts before it).
    A classroom's server builds it from what its observer saw and its own records."""
    check_student(student)
    by_step = {r.step: r for r in results}
    steps = [_grade_step(s, by_step.get(s.id), [a for a in history if a["step"] == s.id])
             for s in lab.steps]
    return Report(
        student=student, lab=lab.id, lab_title=lab.title, score=sum(s.points for s in steps),
        max_score=lab.max_score, graded_at=iso(time.time()), cluster=cluster, steps=steps,
        run_started_at=iso(started_at) if started_at else None, source=source,
    )
