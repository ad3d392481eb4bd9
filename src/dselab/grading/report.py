"""The graded report: what a student's lab run earned, step by step, with the evidence it rests on.

Plain data shared by the grading run, signing, the report files and the gradebook.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from dselab.errors import UsageError

REPORT_FORMAT = 1
STUDENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NOW, HISTORY = "now", "history"


@dataclass
class StepGrade:
    id: str
    number: int
    title: str
    status: str  # the check's status now: pass | fail | error
    counted_from: str | None  # "now" | "history" | None (no credit)
    points: int
    max_points: int
    message: str
    hint: str = ""
    evidence: list[Any] = field(default_factory=list)  # what the counted verdict rests on
    evidence_now: list[Any] = field(default_factory=list)  # today's evidence when counted from history
    passed_at: str | None = None  # the passing attempt's time when counted from history
    history: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Report:
    student: str
    lab: str
    lab_title: str
    score: int
    max_score: int
    graded_at: str
    cluster: dict[str, Any]
    steps: list[StepGrade]
    run_started_at: str | None = None
    source: str = "grade"
    format: int = REPORT_FORMAT
    signature: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_student(student: str) -> str:
    if not isinstance(student, str) or not STUDENT_ID.fullmatch(student):
        raise UsageError(f"invalid student id {student!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return student


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def evidence_text(item: Any) -> str:
    """One evidence item as readable text: command output keeps its line breaks."""
    if not isinstance(item, dict):
        return json.dumps(item, ensure_ascii=False)
    lines = []
    for key, value in item.items():
        if isinstance(value, list):
            value = "\n  ".join(map(str, value))
        lines.append(f"{key}: {value}")
    return "\n".join(lines)
