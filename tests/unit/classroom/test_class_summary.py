"""The class at a glance, as plain data: per step passed / trying / not started (the grid's states),
who looks stuck and why (with their last failure's message), completions in time order."""

from __future__ import annotations

import pytest

from dselab.catalogue import get_lab
from dselab.classroom.class_summary import SeatRecord, StuckRules, class_summary
from dselab.errors import UsageError
from dselab.settings import Settings
from dselab.state import AttemptSummary

LAB = get_lab("05")
T0 = 1_000_000.0


def _a(step: str, status: str, minute: float) -> AttemptSummary:
    return AttemptSummary(step=step, status=status, at=T0 + 60 * minute, source="web")


def _room() -> dict[str, SeatRecord]:
    return {
        "ana": SeatRecord([_a("snapshot", "pass", 1), _a("list", "pass", 2), _a("incremental", "pass", 3)], {}),
        "ben": SeatRecord([_a("snapshot", "fail", 1), _a("snapshot", "pass", 2), _a("list", "pass", 4)], {}),
        "cy": SeatRecord([_a("snapshot", "fail", 1), _a("snapshot", "fail", 2), _a("snapshot", "error", 3)],
                         {"snapshot": "no snapshot lab_backup on dse-seed"}),
        "dee": SeatRecord([], {}),
    }


def test_per_step_counts_are_the_grids_states() -> None:
    summary = class_summary(LAB.steps, _room(), T0 + 60 * 5)
    counts = {c["step"]: (c["passed"], c["trying"], c["not_started"]) for c in summary["steps"]}
    assert counts["snapshot"] == (2, 1, 1)
    assert counts["list"] == (2, 0, 2)
    assert counts["incremental"] == (1, 0, 3)
    assert counts["clear"] == (0, 0, 4)
    assert summary["seats"] == 4 and len(summary["steps"]) == len(LAB.steps)
    assert all(sum((c["passed"], c["trying"], c["not_started"])) == 4 for c in summary["steps"])


def test_the_same_step_failed_n_times_is_stuck_with_its_last_message() -> None:
    summary = class_summary(LAB.steps, _room(), T0 + 60 * 5)
    stuck = {s["seat"]: s for s in summary["stuck"]}
    assert set(stuck) == {"cy"}  # dee is behind but idle only 5 minutes; ben's failure was followed by a pass
    assert stuck["cy"]["step"] == "snapshot" and stuck["cy"]["failures"] == 3
    assert stuck["cy"]["message"] == "no snapshot lab_backup on dse-seed"
    assert class_summary(LAB.steps, _room(), T0 + 300, StuckRules(failures=4))["stuck"] == []


def test_idle_while_behind_the_class_is_stuck_idle_while_ahead_is_not() -> None:
    later = T0 + 60 * 30
    stuck = {s["seat"]: s for s in class_summary(LAB.steps, _room(), later)["stuck"]}
    assert "dee" in stuck and stuck["dee"]["step"] == "snapshot" and stuck["dee"]["idle_minutes"] == 29.0
    assert "no activity" in stuck["dee"]["reasons"][0]
    assert "ana" not in stuck and "ben" not in stuck  # ahead of (or at) the median
    assert len(stuck["cy"]["reasons"]) == 2


def test_completions_are_first_passes_in_time_order() -> None:
    summary = class_summary(LAB.steps, _room(), T0 + 300)
    assert [(c["seat"], c["step"]) for c in summary["completions"]] == [
        ("ana", "snapshot"), ("ana", "list"), ("ben", "snapshot"), ("ana", "incremental"), ("ben", "list")]
    assert summary["start"] == T0 + 60


def test_an_empty_class_and_the_rules_from_the_environment() -> None:
    summary = class_summary(LAB.steps, {}, T0)
    assert summary["stuck"] == [] and summary["completions"] == [] and summary["start"] == T0
    rules = StuckRules.from_settings(Settings.from_env({"DSELAB_CLASSROOM_STUCK_FAILURES": "5",
                                                    "DSELAB_CLASSROOM_STUCK_IDLE_S": "150"}))
    assert (rules.failures, rules.idle_minutes) == (5, 2.5)
    assert StuckRules.from_settings(Settings.from_env({})) == StuckRules()
    with pytest.raises(UsageError, match="DSELAB_CLASSROOM_STUCK_FAILURES"):
        Settings.from_env({"DSELAB_CLASSROOM_STUCK_FAILURES": "many"})
