"""A report on disk: report.json (the signed data), report.xml (JUnit) and report.html (for people)."""

from __future__ import annotations

import json
from pathlib import Path

from dselab import render
from dselab.errors import UsageError
from dselab.grading import evidence_view
from dselab.grading.junit import junit_xml
from dselab.grading.report import Report


def write_report(report: Report, out_dir: Path) -> list[Path]:
    """report.json (signed data), report.xml (JUnit) and report.html (for people)."""
    data = report.to_dict()
    texts = {
        "report.json": json.dumps(data, indent=2, ensure_ascii=False) + "\n",
        "report.xml": junit_xml(data),
        "report.html": render.jinja_env().get_template("grading/report.html").render(r=data, evidence_view=evidence_view),
    }
    return [write_text(Path(out_dir) / name, text) for name, text in texts.items()]


def write_text(path: Path, text: str) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None
    return path
