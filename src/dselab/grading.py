"""Grading: a lab's checks as a signed report with evidence, and an instructor's gradebook.

A step counts when its check passes now or passed during the run (a later step may legitimately
undo an earlier state: clearing lab_backup in step 4 undoes step 1). A report is signed with
HMAC-SHA256 over its canonical JSON when a course key is at hand; the gradebook verifies every
report and aggregates only the valid ones. Nothing here prints.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dselab import render, service
from dselab.checking import ERROR, PASS, CheckResult
from dselab.errors import DselabError, UsageError
from dselab.lab import Lab, Step, get_lab

REPORT_FORMAT = 1
KEY_ENV = "DSELAB_COURSE_KEY"
STUDENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NOW, HISTORY = "now", "history"
VALID, UNSIGNED, TAMPERED, MALFORMED, UNVERIFIED = "valid", "unsigned", "tampered", "malformed", "unverified"

# How grade() gets the lab's check results; tests pass a stub instead of a real cluster.
Checker = Callable[[service.Workspace, Lab, str], list[CheckResult]]


# -- the report -----------------------------------------------------------------------------------


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


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """JSON-safe copy, so what is signed is exactly what is written."""
    return json.loads(json.dumps(value, default=str))


def _run_all_checks(ws: service.Workspace, lab: Lab, source: str) -> list[CheckResult]:
    return service.check(ws, lab.id, (), source)


def _cluster_info(ws: service.Workspace) -> dict[str, Any]:
    info: dict[str, Any] = {"runtime": ws.runtime_name, "cassandra_version": None, "nodes": []}
    try:
        info["cassandra_version"] = ws.runtime.cassandra_version()
        info["nodes"] = list(ws.runtime.node_names())
    except (DselabError, OSError):
        pass  # a cluster that is down still gets a report: its checks say why
    return info


def _grade_step(step: Step, result: CheckResult | None, attempts: list[dict[str, Any]]) -> StepGrade:
    if result is None:
        result = CheckResult(lab="", step=step.id, number=step.number, title=step.title,
                             status=ERROR, message="the check produced no result")
    passing = [a for a in attempts if a["status"] == PASS]
    counted_from, evidence, evidence_now, passed_at = None, result.evidence, [], None
    if result.passed:
        counted_from = NOW
    elif passing:
        counted_from, evidence, evidence_now = HISTORY, passing[-1]["evidence"], result.evidence
        passed_at = _iso(passing[-1]["at"])
    return StepGrade(
        id=step.id, number=step.number, title=step.title, status=result.status,
        counted_from=counted_from, points=step.weight if counted_from else 0, max_points=step.weight,
        message=result.message, hint=result.hint, evidence=_plain(evidence),
        evidence_now=_plain(evidence_now), passed_at=passed_at,
        history=[{"status": a["status"], "message": a["message"], "at": _iso(a["at"]),
                  "source": a["source"]} for a in attempts],
    )


def grade(ws: service.Workspace, lab_ref: str | Lab, student: str, source: str = "grade", *,
          key: bytes | None = None, checker: Checker | None = None) -> Report:
    """Run every check of the lab (past failures) and credit each step by weight."""
    check_student(student)
    lab = lab_ref if isinstance(lab_ref, Lab) else get_lab(lab_ref)
    started_at = float(service.baseline(ws, lab).get("started_at") or 0)
    history = ws.store.attempts(lab.id, since=started_at)  # read before this grading's own attempts
    cluster = _cluster_info(ws)
    results = {r.step: r for r in (checker or _run_all_checks)(ws, lab, source)}
    steps = [_grade_step(s, results.get(s.id), [a for a in history if a["step"] == s.id])
             for s in lab.steps]
    report = Report(
        student=student, lab=lab.id, lab_title=lab.title, score=sum(s.points for s in steps),
        max_score=lab.max_score, graded_at=_iso(time.time()), cluster=cluster, steps=steps,
        run_started_at=_iso(started_at) if started_at else None, source=source,
    )
    return sign(report, key) if key else report


# -- signing --------------------------------------------------------------------------------------


def canonical(data: dict[str, Any]) -> bytes:
    payload = {k: v for k, v in data.items() if k != "signature"}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def signature_of(data: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, canonical(data), hashlib.sha256).hexdigest()


def sign(report: Report, key: bytes) -> Report:
    report.signature = signature_of(report.to_dict(), key)
    return report


def load_key(key_file: Path | None = None) -> bytes | None:
    """The course key from `key_file`, else from $DSELAB_COURSE_KEY, else None (unsigned)."""
    if key_file is None:
        text = os.environ.get(KEY_ENV, "").strip()
        return text.encode() if text else None
    try:
        text = Path(key_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or "not a text file"
        raise UsageError(f"cannot read key file {key_file}: {reason}") from None
    if not text:
        raise UsageError(f"key file {key_file} is empty", fix="create one with `dselab keygen`")
    return text.encode()


def keygen(path: Path) -> Path:
    """Write a random 32-byte hex key readable by its owner only; never overwrite one."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} already exists; refusing to overwrite a course key",
                         fix="choose another --out, or remove the old key deliberately") from None
    except OSError as err:
        raise UsageError(f"cannot create key file {path}: {err.strerror}") from None
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fd, 0o600)
        fh.write(secrets.token_hex(32) + "\n")
    return path


# -- report files ---------------------------------------------------------------------------------

_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _evidence_text(item: Any) -> str:
    """One evidence item as readable text: command output keeps its line breaks."""
    if not isinstance(item, dict):
        return json.dumps(item, ensure_ascii=False)
    lines = []
    for key, value in item.items():
        if isinstance(value, list):
            value = "\n  ".join(map(str, value))
        lines.append(f"{key}: {value}")
    return "\n".join(lines)




def _xml(text: Any) -> str:
    return _XML_BAD.sub("\ufffd", str(text))


def junit_xml(data: dict[str, Any]) -> str:
    """One testsuite for the lab, one testcase per step; uncounted steps carry a failure."""
    steps = data["steps"]
    suite = ET.Element("testsuite", name=_xml(data["lab"]), tests=str(len(steps)),
                       failures=str(sum(1 for s in steps if not s["counted_from"])), errors="0",
                       skipped="0", timestamp=_xml(data["graded_at"]))
    props = ET.SubElement(suite, "properties")
    for name in ("student", "score", "max_score", "lab_title", "signature"):
        ET.SubElement(props, "property", name=name, value=_xml(data.get(name) or ""))
    for s in steps:
        case = ET.SubElement(suite, "testcase", classname=_xml(f"dselab.{data['lab']}"),
                             name=_xml(f"{s['number']:02d} {s['id']}: {s['title']}"))
        if not s["counted_from"]:
            failure = ET.SubElement(case, "failure", message=_xml(s["message"]), type=_xml(s["status"]))
            failure.text = _xml(s["hint"])
        note = f"points {s['points']}/{s['max_points']}, counted from {s['counted_from'] or 'nothing'}"
        if s.get("passed_at"):
            note += f" (passed at {s['passed_at']})"
        evidence = "\n\n".join(_evidence_text(item) for item in s["evidence"])
        ET.SubElement(case, "system-out").text = _xml(f"{note}\n\n{evidence}")
    root = ET.Element("testsuites", name=_xml(f"dselab grade {data['student']}"))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """report.json (signed data), report.xml (JUnit) and report.html (for people)."""
    data = report.to_dict()
    texts = {
        "report.json": json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        "report.xml": junit_xml(data),
        "report.html": render.jinja_env().get_template("grading/report.html").render(r=data, evidence_text=_evidence_text),
    }
    return [_write(Path(out_dir) / name, text) for name, text in texts.items()]


def _write(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
    return path


# -- the gradebook --------------------------------------------------------------------------------

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


# -- gradebook files ------------------------------------------------------------------------------



def _cell(value: Any) -> Any:
    """Keep spreadsheets from running text that looks like a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def gradebook_csv(gb: Gradebook) -> str:
    """Three tables separated by a blank line: scores, steps, flagged reports."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "lab", "score", "max_score", "percent", "graded_at", "report"])
    for s in gb.scores:
        writer.writerow(map(_cell, [s.student, s.lab, s.score, s.max_score, s.percent, s.graded_at,
                                    str(s.path)]))
    writer.writerow([])
    writer.writerow(["lab", "step", "number", "title", "passed", "graded", "pass_rate_percent",
                     "most_common_failure", "failure_count"])
    for st in gb.steps:
        message, count = st.top_failure
        writer.writerow(map(_cell, [st.lab, st.step, st.number, st.title, st.passed, st.graded,
                                    st.pass_rate, message, count]))
    writer.writerow([])
    writer.writerow(["flagged_report", "verdict", "detail"])
    for c in gb.flagged:
        writer.writerow(map(_cell, [str(c.path), c.verdict, c.detail]))
    return out.getvalue()


def check_gradebook_out(out_file: Path) -> str:
    suffix = Path(out_file).suffix.lower()
    if suffix not in (".csv", ".html"):
        raise UsageError(f"gradebook output {out_file} must end in .csv or .html")
    return suffix


def write_gradebook(gb: Gradebook, out_file: Path) -> Path:
    """CSV or HTML, chosen by the file's suffix."""
    suffix = check_gradebook_out(out_file)
    text = gradebook_csv(gb) if suffix == ".csv" else render.jinja_env().get_template("grading/gradebook.html").render(gb=gb)
    return _write(Path(out_file), text)
