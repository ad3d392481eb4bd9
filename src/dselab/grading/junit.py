"""A report as JUnit XML: one testsuite for the lab, one testcase per step."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from dselab.grading.report import evidence_text

_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


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
        evidence = "\n\n".join(evidence_text(item) for item in s["evidence"])
        ET.SubElement(case, "system-out").text = _xml(f"{note}\n\n{evidence}")
    root = ET.Element("testsuites", name=_xml(f"dselab grade {data['student']}"))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
