"""The class at a glance: per step how many students passed, are trying, have not started; who looks
stuck; completions over the session's time. A plain function of the seats' attempt records (the same
ones the grid's cells come from), so its counts are the grid's. The instructor's page draws it.

A student looks stuck when a step they have not passed failed `failures` times or more, or when they
have been idle `idle_minutes` while behind the class (fewer steps passed than the class median).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from dselab.lab import Step
from dselab.outcomes import CheckStatus
from dselab.settings import Settings, resolve
from dselab.state import AttemptSummary


@dataclass(frozen=True)
class StuckRules:
    failures: int = 3  # the same step failed this many times
    idle_minutes: float = 10.0  # no attempt for this long, while behind the class

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> StuckRules:
        """DSELAB_CLASSROOM_STUCK_FAILURES and DSELAB_CLASSROOM_STUCK_IDLE_S (settings, else the environment's)."""
        room = resolve(settings).classroom
        return cls(room.stuck_failures, room.stuck_idle_s / 60)


@dataclass(frozen=True)
class SeatRecord:
    """One student's attempts in this lab run (oldest first) and the last message per step."""

    attempts: Sequence[AttemptSummary]
    messages: Mapping[str, str]


class StepCounts(TypedDict):
    step: str
    number: int
    title: str
    passed: int
    trying: int
    not_started: int


class Stuck(TypedDict):
    seat: str
    step: str
    number: int
    reasons: list[str]
    failures: int
    idle_minutes: float | None
    message: str


def step_state(attempts: Sequence[AttemptSummary], step_id: str) -> str:
    """passed (at least once in the run) / failed (tried, not passed) / not tried: the grid's cell."""
    mine = [a for a in attempts if a["step"] == step_id]
    if any(a["status"] == CheckStatus.PASS for a in mine):
        return "passed"
    return "failed" if mine else "not tried"


def _passed_count(record: SeatRecord, steps: Sequence[Step]) -> int:
    return sum(step_state(record.attempts, s.id) == "passed" for s in steps)


def _stuck(seat: str, record: SeatRecord, steps: Sequence[Step], behind: bool, now: float, start: float,
           rules: StuckRules) -> Stuck | None:
    reasons: list[str] = []
    worst: tuple[float, Step, int] | None = None  # (last failure time, step, failures) of the failing step
    for step in steps:
        mine = [a for a in record.attempts if a["step"] == step.id]
        if any(a["status"] == CheckStatus.PASS for a in mine):
            continue
        failed = [a for a in mine if a["status"] != CheckStatus.PASS]
        if len(failed) >= rules.failures and (worst is None or failed[-1]["at"] > worst[0]):
            worst = (failed[-1]["at"], step, len(failed))
    if worst is not None:
        reasons.append(f"step {worst[1].number} failed {worst[2]} times")
    last = max((a["at"] for a in record.attempts), default=start)
    idle = max(0.0, (now - last) / 60)
    if behind and idle >= rules.idle_minutes:
        reasons.append(f"no activity for {int(idle)} min while behind the class")
    if not reasons:
        return None
    if worst is not None:
        step, failures = worst[1], worst[2]
    else:  # idle: the step they are on is the first one not passed
        step = next((s for s in steps if step_state(record.attempts, s.id) != "passed"), steps[-1])
        failures = sum(1 for a in record.attempts if a["step"] == step.id and a["status"] != CheckStatus.PASS)
    failing = [a for a in record.attempts if a["status"] != CheckStatus.PASS]
    last_failed = step.id if worst is not None else failing[-1]["step"] if failing else ""
    message = record.messages.get(last_failed, "")
    return Stuck(seat=seat, step=step.id, number=step.number, reasons=reasons, failures=failures,
                 idle_minutes=round(idle, 1) if behind and idle >= rules.idle_minutes else None, message=message)


def class_summary(steps: Sequence[Step], seats: Mapping[str, SeatRecord], now: float,
                  rules: StuckRules = StuckRules()) -> dict[str, Any]:
    """The class picture for `steps` (objects with id, number, title) over each seat's records:

    {"seats": n, "steps": [StepCounts], "stuck": [Stuck], "rules": {...},
     "completions": [{"at", "seat", "step"}] (each seat's first pass of a step, in time order),
     "start": the session's first attempt (or now), "now": now}
    """
    counts = [StepCounts(step=s.id, number=s.number, title=s.title, passed=0, trying=0, not_started=0) for s in steps]
    completions: list[dict[str, Any]] = []
    for seat, record in seats.items():
        for entry in counts:
            state = step_state(record.attempts, entry["step"])
            if state == "passed":
                entry["passed"] += 1
            elif state == "failed":
                entry["trying"] += 1
            else:
                entry["not_started"] += 1
        first_pass: dict[str, float] = {}
        for a in record.attempts:
            if a["status"] == CheckStatus.PASS:
                first_pass.setdefault(a["step"], a["at"])
        completions += [{"at": at, "seat": seat, "step": step} for step, at in first_pass.items()]
    completions.sort(key=lambda c: (c["at"], c["seat"], c["step"]))
    start = min((a["at"] for r in seats.values() for a in r.attempts), default=now)
    passed = {seat: _passed_count(record, steps) for seat, record in seats.items()}
    median = statistics.median(passed.values()) if passed else 0
    stuck = [s for seat, record in sorted(seats.items()) if steps
             if (s := _stuck(seat, record, steps, passed[seat] < median, now, start, rules)) is not None]
    return {"seats": len(seats), "steps": counts, "stuck": stuck, "completions": completions,
            "start": start, "now": now,
            "rules": {"failures": rules.failures, "idle_minutes": rules.idle_minutes}}
