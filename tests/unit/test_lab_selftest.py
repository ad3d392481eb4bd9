"""The lab self-test's verdicts: what makes a lab green or red (no cluster: plain results)."""

from __future__ import annotations

from unittest import mock

import pytest

from dselab import service
from dselab.check_engine import END_OF_LAB, CheckResult
from dselab.errors import UsageError
from dselab.lab import Lab, Step
from dselab.lab_selftest import SelftestReport, StepOutcome, run_selftest
from shipped_content import shipped_lab

LAB = Lab(id="05-backup-restore", number="05", title="Backup & Restore", summary="",
          steps=(Step(id="snapshot", number=1, title="Snapshot", body="", solution=()),))


def result(status: str, message: str = "") -> CheckResult:
    return CheckResult(lab=LAB.id, step="snapshot", number=1, title="Snapshot", status=status,
                       message=message or status, hint="", evidence=[])


def report(before: str, after: str, verification: str | None = None) -> SelftestReport:
    outcome = StepOutcome(1, "snapshot", before=result(before), after=result(after))
    return SelftestReport(LAB, outcomes=[outcome],
                          verification=result(verification, "restored data equals the backup") if verification else None)


def test_fail_then_pass_is_green() -> None:
    assert report("fail", "pass").ok
    assert report("fail", "pass").lines()[-1].startswith("1 passed, 0 failed")


def test_a_check_that_passes_before_its_solve_is_a_broken_lab() -> None:
    bad = report("pass", "pass")
    assert not bad.ok
    assert "passed BEFORE its solve" in "\n".join(bad.lines())


def test_a_failed_end_of_lab_verification_makes_the_lab_red() -> None:
    assert report("fail", "pass", verification="pass").ok
    red = report("fail", "pass", verification="fail")
    assert not red.ok
    assert any(line.strip().startswith("FAIL end of lab") for line in red.lines())


def test_lab_05_has_an_end_of_lab_verification() -> None:
    assert END_OF_LAB in shipped_lab("05-backup-restore").checks


def test_a_local_only_lab_is_refused_on_docker_in_one_line_before_any_cluster_is_touched() -> None:
    """Lab 05b edits each node's conf/ and moves its commit log (the local layout): on docker,
    `dselab start 05b` and `dselab test 05b` stop with one line, and no cluster is purged first."""
    runtime = mock.Mock()
    ws = service.Workspace(runtime=runtime, store=mock.Mock(), runtime_name="docker")
    lab = shipped_lab("05b")
    for attempt in (lambda: service.start_lab(ws, lab), lambda: run_selftest(ws, lab)):
        with pytest.raises(UsageError, match="lab 05b runs on the local runtime only, not on docker") as err:
            attempt()
        assert "\n" not in err.value.message and err.value.fix == "dselab --runtime local start 05b"
    assert runtime.mock_calls == []
