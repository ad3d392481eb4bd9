"""A node's system log for people (`dselab logs`): its tail, or what it said since the lab started.

The lab's baseline marks each node's debug.log (the fuller log; checks read it), so "since the
lab" reads debug.log from that mark and keeps the records system.log would have (INFO and up).
"""

from __future__ import annotations

import re

from dselab.catalogue import load_all
from dselab.errors import UsageError
from dselab.lab import Lab
from dselab.service import Workspace, baseline
from dselab.state import Baseline

RECORD_START = re.compile(r"^(TRACE|DEBUG|INFO|WARN|ERROR)\s")
SYSTEM_LEVELS = {"INFO", "WARN", "ERROR"}


def system_records(text: str) -> list[str]:
    """The lines of INFO, WARN and ERROR records; a stack trace's lines stay with their record."""
    kept, keep = [], True
    for line in text.splitlines():
        start = RECORD_START.match(line)
        if start:
            keep = start.group(1) in SYSTEM_LEVELS
        if keep:
            kept.append(line)
    return kept


def latest_started_lab(ws: Workspace, labs: tuple[Lab, ...] | None = None) -> tuple[Lab, Baseline]:
    """The lab started last with `dselab start`, and its baseline."""
    started = [(lab, base) for lab in labs or load_all() if (base := ws.store.baseline(lab.id))]
    if not started:
        raise UsageError("no lab has been started, so there is no lab mark to read from",
                         fix="drop --since-lab, or start a lab with `dselab start 05`")
    return max(started, key=lambda pair: float(pair[1].get("started_at") or 0))


def node_log(ws: Workspace, node: str, lines: int = 50, since_lab: bool = False) -> list[str]:
    """The last `lines` lines (0: all) of NODE's system log, or of what it logged since the lab's mark."""
    names = list(ws.runtime.node_names())
    if node not in names:
        raise UsageError(f"unknown node {node!r}; the nodes are: {', '.join(names)}")
    if since_lab:
        lab, _ = latest_started_lab(ws)
        mark = int(baseline(ws, lab).get("log_marks", {}).get(node, 0))
        records = system_records(ws.runtime.log_since(node, mark, debug=True))
    elif lines:
        return ws.runtime.log_tail(node, lines)
    else:
        records = ws.runtime.log_since(node, 0, debug=False).splitlines()
    return records[-lines:] if lines else records
