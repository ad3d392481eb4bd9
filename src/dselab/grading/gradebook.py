"""The gradebook: verify every report (signature, shape) and aggregate the valid ones.

Only the latest valid report per student and lab counts; every other one is listed with why.
"""

from __future__ import annotations

import hmac
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dselab.grading.report_input import FoundReport, find_reports, is_utf8_name, read_report_bytes, shown
from dselab.grading.report_shape import shape_problem
from dselab.grading.signing import signature_of

VALID, UNSIGNED, TAMPERED, MALFORMED, UNVERIFIED = "valid", "unsigned", "tampered", "malformed", "unverified"

@dataclass
class ReportCheck:
    path: Path
    verdict: str  # valid | unsigned | tampered | malformed | unverified
    detail: str
    data: dict[str, Any] = field(default_factory=dict)  # empty when malformed

    @property
    def shown_path(self) -> str:
        return shown(self.path)

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
    def shown_path(self) -> str:
        return shown(self.path)

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


def verify_report(data: Any, key: bytes | None) -> tuple[str, str]:
    """The verdict on report data and why: a pure function of the data and the course key."""
    problem = shape_problem(data)
    if problem:
        return MALFORMED, problem
    signature = data.get("signature")
    if not signature:
        return UNSIGNED, "the report carries no signature"
    if key is None:
        return UNVERIFIED, "no course key given, so the signature was not checked"
    expected = signature_of(data, key).encode()
    if not isinstance(signature, str) or not hmac.compare_digest(signature.encode("utf-8", "replace"),
                                                                 expected):
        return TAMPERED, "signature does not match the course key (edited since signing, or signed with another key)"
    return VALID, "signature verified"


def parse_report(raw: bytes) -> tuple[Any, str | None]:
    """JSON from a report file's bytes, or None and why not."""
    try:
        return json.loads(raw.decode("utf-8")), None
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
    except json.JSONDecodeError as err:
        return None, f"not valid JSON (line {err.lineno}, column {err.colno})"
    except ValueError:
        return None, "not valid JSON"
    except RecursionError:
        return None, "JSON nested too deeply"


def check_report(path: Path | FoundReport, key: bytes | None) -> ReportCheck:
    """Read one report file (safely: see report_input) and verify it."""
    found = path if isinstance(path, FoundReport) else FoundReport(Path(path), None)
    raw, problem = read_report_bytes(found)
    data, problem = (None, problem) if raw is None else parse_report(raw)
    if problem:
        return ReportCheck(found.path, MALFORMED, problem)
    verdict, detail = verify_report(data, key)
    if not is_utf8_name(found.path):
        detail += "; its file or folder name is not UTF-8 (shown with \\x escapes)"
    return ReportCheck(found.path, verdict, detail, data if data is not None and verdict != MALFORMED else {})


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
    """Verify every report file under `paths`; aggregate the valid ones."""
    return aggregate([check_report(p, key) for p in find_reports(paths)])


def aggregate(checked: list[ReportCheck]) -> Gradebook:
    """The gradebook of verified reports (files or not): the valid ones, latest per student and
    lab, make the scores and step statistics; the rest are listed as flagged."""
    latest = _latest(c for c in checked if not c.flagged)
    scores = [StudentScore(c.data["student"], c.data["lab"], c.data["score"], c.data["max_score"],
                           c.data["graded_at"], c.path) for c in latest]
    return Gradebook(checked, scores, _step_stats([c.data for c in latest]))
