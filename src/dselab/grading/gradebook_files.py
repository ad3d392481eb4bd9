"""A gradebook on disk: CSV (three tables) or HTML, chosen by the file's suffix."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from dselab import render
from dselab.errors import UsageError
from dselab.grading import evidence_view
from dselab.grading.gradebook import Gradebook
from dselab.grading.report_files import write_text


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
                                    s.shown_path]))
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
        writer.writerow(map(_cell, [c.shown_path, c.verdict, c.detail]))
    return out.getvalue()


def check_gradebook_out(out_file: Path) -> str:
    suffix = Path(out_file).suffix.lower()
    if suffix not in (".csv", ".html"):
        raise UsageError(f"gradebook output {out_file} must end in .csv or .html")
    return suffix


def write_gradebook(gb: Gradebook, out_file: Path) -> Path:
    """CSV or HTML, chosen by the file's suffix."""
    suffix = check_gradebook_out(out_file)
    text = gradebook_csv(gb) if suffix == ".csv" else gradebook_html(gb)
    return write_text(Path(out_file), text)


def gradebook_html(gb: Gradebook) -> str:
    """Scores, steps, flagged reports, and each counted report's steps with their evidence as a person
    reads it (grading.evidence_view, the instructor page's view)."""
    reports = {c.path: c.data for c in gb.valid}
    counted = [(s, reports.get(s.path, {})) for s in gb.scores]
    template = render.jinja_env().get_template("grading/gradebook.html")
    return template.render(gb=gb, counted=counted, evidence_view=evidence_view)
