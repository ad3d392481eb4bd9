"""The gradebook: verify every report (signature, shape) and aggregate the valid ones.

Only the latest valid report per student and lab counts; every other one is listed with why.
"""

from __future__ import annotations

import hmac
import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dselab.errors import UsageError
from dselab.grading.report import HISTORY, NOW, STUDENT_ID
from dselab.grading.signing import signature_of

VALID, UNSIGNED, TAMPERED, MALFORMED, UNVERIFIED = "valid", "unsigned", "tampered", "malformed", "unverified"

_REPORT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "student": str, "lab": str, "score": (int, float), "max_score": (int, float),
    "graded_at": str, "steps": list,
}
_STEP_FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": str, "number": int, "title": str, "status": str, "points": (int, float),
    "max_points": (int, float), "message": str,
}


@dataclass
class ReportCheck:
    path: Path
    verdict: str  # valid | unsigned | tampered | malformed | unverified
    detail: str
    data: dict[str, Any] = field(default_factory=dict)  # empty when malformed

    @property
    def flagged(self) -> bool:
        return self.verdict != VALID


@dataclass
class StudentScore:
    student: str
    lab: str
    score: float
    max_score: float
    graded_at: str
    path: Path

    @property
    def percent(self) -> float:
        return round(100 * self.score / self.max_score, 1) if self.max_score else 0.0


@dataclass
class StepStat:
    lab: str
    step: str
    number: int
    title: str
    passed: int = 0
    graded: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def pass_rate(self) -> float:
        return round(100 * self.passed / self.graded, 1) if self.graded else 0.0

    @property
    def top_failure(self) -> tuple[str, int]:
        """The most common failure message (ties: alphabetically first), with its count."""
        if not self.failures:
            return "", 0
        return min(self.failures.items(), key=lambda kv: (-kv[1], kv[0]))


@dataclass
class Gradebook:
    checked: list[ReportCheck]
    scores: list[StudentScore]
    steps: list[StepStat]

    @property
    def flagged(self) -> list[ReportCheck]:
        return [c for c in self.checked if c.flagged]

    @property
    def valid(self) -> list[ReportCheck]:
        return [c for c in self.checked if not c.flagged]


def find_reports(paths: Sequence[Path]) -> list[Path]:
    """report.json files named directly or found under directories (symlinked dirs not followed)."""
    found: list[Path] = []
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or directory: {', '.join(missing)}")
    for path in map(Path, paths):
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                found += [Path(root) / "report.json"] if "report.json" in files else []
        else:
            found.append(path)
    unique = list({p.resolve(): p for p in found}.values())
    if not unique:
        raise UsageError(f"no report.json found in {', '.join(map(str, paths))}")
    return unique


def _shape_problem(data: Any) -> str | None:
    """Why `data` is not a report, or None."""
    if not isinstance(data, dict):
        return "not a JSON object"
    for name, kind in _REPORT_FIELDS.items():
        if not isinstance(data.get(name), kind):
            return f"missing or invalid field {name!r}"
    if not STUDENT_ID.fullmatch(data["student"]):
        return "invalid student id"
    try:
        datetime.fromisoformat(data["graded_at"])
    except ValueError:
        return "graded_at is not an ISO time"
    for i, step in enumerate(data["steps"], start=1):
        if not isinstance(step, dict):
            return f"step {i}: not a JSON object"
        bad = [n for n, k in _STEP_FIELDS.items() if not isinstance(step.get(n), k)]
        if bad or step.get("counted_from") not in (None, NOW, HISTORY):
            return f"step {i}: missing or invalid field {(bad or ['counted_from'])[0]!r}"
    return None


def _read_json(path: Path) -> tuple[Any, str | None]:
    try:
        return json.loads(path.read_text(encoding="utf-8")), None
    except OSError as err:
        return None, f"cannot read: {err.strerror}"
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as err:
        return None, f"not valid JSON (line {err.lineno}, column {err.colno})"
    except ValueError:
        return None, "not valid JSON"
    except RecursionError:
        return None, "JSON nested too deeply"


def check_report(path: Path, key: bytes | None) -> ReportCheck:
    data, problem = _read_json(path)
    problem = problem or _shape_problem(data)
    if problem:
        return ReportCheck(path, MALFORMED, problem)
    signature = data.get("signature")
    if not signature:
        return ReportCheck(path, UNSIGNED, "the report carries no signature", data)
    if key is None:
        return ReportCheck(path, UNVERIFIED, "no course key given, so the signature was not checked", data)
    expected = signature_of(data, key).encode()
    if not isinstance(signature, str) or not hmac.compare_digest(signature.encode("utf-8", "replace"),
                                                                 expected):
        return ReportCheck(path, TAMPERED, "signature does not match the course key "
                                           "(edited since signing, or signed with another key)", data)
    return ReportCheck(path, VALID, "signature verified", data)


def _when(data: dict[str, Any]) -> datetime:
    when = datetime.fromisoformat(data["graded_at"])
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _latest(checks: Iterable[ReportCheck]) -> list[ReportCheck]:
    """The latest report per student and lab."""
    latest: dict[tuple[str, str], ReportCheck] = {}
    for check in checks:
        ident = (check.data["student"], check.data["lab"])
        if ident not in latest or _when(check.data) >= _when(latest[ident].data):
            latest[ident] = check
    return [latest[k] for k in sorted(latest)]


def _step_stats(reports: list[dict[str, Any]]) -> list[StepStat]:
    stats: dict[tuple[str, str], StepStat] = {}
    for data in reports:
        for s in data["steps"]:
            ident = (data["lab"], s["id"])
            stat = stats.setdefault(ident, StepStat(data["lab"], s["id"], s["number"], s["title"]))
            stat.graded += 1
            if s.get("counted_from"):
                stat.passed += 1
            else:
                stat.failures[s["message"]] += 1
    return sorted(stats.values(), key=lambda st: (st.lab, st.number, st.step))


def gradebook(paths: Sequence[Path], key: bytes | None) -> Gradebook:
    """Verify every report; aggregate the valid ones (latest per student and lab) only."""
    checked = [check_report(p, key) for p in find_reports(paths)]
    latest = _latest(c for c in checked if not c.flagged)
    scores = [StudentScore(c.data["student"], c.data["lab"], c.data["score"], c.data["max_score"],
                           c.data["graded_at"], c.path) for c in latest]
    return Gradebook(checked, scores, _step_stats([c.data for c in latest]))
