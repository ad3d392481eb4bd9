"""Evidence as a person reads it: each recorded item (check_engine.CheckContext's reads) as one block
of plain data, for the instructor's page (drawn by instructor.js) and the gradebook's HTML (a Jinja
macro) alike. Blocks hold text only; whoever draws them escapes it (the text is the student's).

    command  {"kind", "node", "command", "exit", "output"}       nodetool and its kin, stdout then stderr
    listing  {"kind", "node", "folder", "files": [{"path", "size", "links"}]}
    text     {"kind", "node", "title", "text"}                    a file read, a log tail, a traceback
    facts    {"kind", "node", "rows": [[name, value]]}            anything else, one row per field
"""

from __future__ import annotations

import json
import re
from typing import Any

# "path (123 B)" (older records) or "path (123 B, 2 links)"
_FILE = re.compile(r"^(?P<path>.*) \((?P<size>\d+) B(?:, (?P<links>\d+) links?)?\)$")
_TEXTS = (("content", "read"), ("log_tail", "log tail"), ("traceback", "traceback"))


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _node(item: dict[str, Any]) -> str:
    return _text(item.get("node") or "")


def file_row(entry: Any) -> dict[str, Any]:
    """One listed file: path, size in bytes, hard links (None where the record did not keep them)."""
    if isinstance(entry, dict):
        return {"path": _text(entry.get("path", "")), "size": entry.get("size"), "links": entry.get("links")}
    match = _FILE.match(_text(entry))
    if not match:
        return {"path": _text(entry), "size": None, "links": None}
    links = match.group("links")
    return {"path": match.group("path"), "size": int(match.group("size")), "links": int(links) if links else None}


def _command(item: dict[str, Any]) -> dict[str, Any]:
    parts = (_text(item.get("stdout") or "").rstrip("\n"), _text(item.get("stderr") or "").rstrip("\n"))
    output = "\n".join(part for part in parts if part)
    return {"kind": "command", "node": _node(item), "command": _text(item["command"]),
            "exit": item.get("exit"), "output": output}


def block(item: Any) -> dict[str, Any]:
    """One evidence item as a block (see the module's docstring)."""
    if not isinstance(item, dict):
        return {"kind": "facts", "node": "", "rows": [["value", _text(item)]]}
    if "command" in item:
        return _command(item)
    if "listing" in item and isinstance(item.get("files"), list):
        return {"kind": "listing", "node": _node(item), "folder": _text(item["listing"]),
                "files": [file_row(entry) for entry in item["files"]]}
    for key, title in _TEXTS:
        if key in item:
            named = f"{title} {_text(item['read'])}" if key == "content" and "read" in item else title
            return {"kind": "text", "node": _node(item), "title": named, "text": _text(item[key])}
    rows = [[_text(k), _text(v)] for k, v in item.items() if k != "node"]
    return {"kind": "facts", "node": _node(item), "rows": rows}


def blocks(evidence: Any) -> list[dict[str, Any]]:
    """Every item of an attempt's (or a report step's) evidence, in order."""
    items = evidence if isinstance(evidence, list) else [evidence]
    return [block(item) for item in items]


def raw(evidence: Any) -> str:
    """The evidence as recorded, for the one-click raw view."""
    return json.dumps(evidence, indent=2, ensure_ascii=False, default=str)
