"""Is this JSON a report? Field types, ids, times, and numbers that can be a score.

A signature says who wrote a report, not that its numbers make sense: `true` is an int to Python,
JSON's 1e309 parses as infinity, and a NaN compares false with everything, so each would slip
through a plain isinstance check into the averages.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from dselab.grading.report import HISTORY, NOW, STUDENT_ID

MAX_POINTS = 10_000  # far above any lab's total; a larger number is not a score

_REPORT_FIELDS: dict[str, type] = {"student": str, "lab": str, "graded_at": str, "steps": list}
_STEP_FIELDS: dict[str, type] = {"id": str, "title": str, "status": str, "message": str}


def _number_problem(where: str, name: str, value: Any, upper: float, integer: bool = False) -> str | None:
    """Why `value` is not a number in [0, upper] (an int when `integer`), or None."""
    kinds = (int,) if integer else (int, float)
    if value is None:
        return f"{where}missing or invalid field {name!r}"
    if isinstance(value, bool) or type(value) not in kinds:
        return f"{where}field {name!r} is not {'an integer' if integer else 'a number'} ({value!r})"
    if not math.isfinite(value):
        return f"{where}field {name!r} is not a finite number ({value!r})"
    if not 0 <= value <= upper:
        return f"{where}field {name!r} is out of range ({value!r}; allowed 0..{upper:g})"
    return None


def _step_problem(i: int, step: Any) -> str | None:
    where = f"step {i}: "
    if not isinstance(step, dict):
        return f"{where}not a JSON object"
    bad = [n for n, k in _STEP_FIELDS.items() if not isinstance(step.get(n), k)]
    if bad or step.get("counted_from") not in (None, NOW, HISTORY):
        return f"{where}missing or invalid field {(bad or ['counted_from'])[0]!r}"
    return (_number_problem(where, "number", step.get("number"), 1000, integer=True)
            or _number_problem(where, "max_points", step.get("max_points"), MAX_POINTS)
            or _number_problem(where, "points", step.get("points"), step["max_points"]))


def shape_problem(data: Any) -> str | None:
    """Why `data` is not a report, or None."""
    if not isinstance(data, dict):
        return "not a JSON object"
    for name, kind in _REPORT_FIELDS.items():
        if not isinstance(data.get(name), kind):
            return f"missing or invalid field {name!r}"
    problem = (_number_problem("", "max_score", data.get("max_score"), MAX_POINTS)
               or _number_problem("", "score", data.get("score"), data["max_score"]))
    if problem:
        return problem
    if not STUDENT_ID.fullmatch(data["student"]):
        return "invalid student id"
    try:
        datetime.fromisoformat(data["graded_at"])
    except ValueError:
        return "graded_at is not an ISO time"
    for i, step in enumerate(data["steps"], start=1):
        if problem := _step_problem(i, step):
            return problem
    return None
