"""The server's reading of an observation: nothing the observer printed is trusted as it stands.

The observer runs with a seat's rights, and a seat controls everything the observer reads, so its
JSON is validated like any untrusted input: the shape and types of every field, the step ids against
the lab's own (titles and numbers come from the server's Lab, never from the observation), sizes
(messages cut to one line, evidence capped per attempt, facts few and small), and the names a fact
may have (never the baseline, an answer or an answer marker: those the server alone writes).
Anything else is `MalformedObservation`: that seat's check errs, nothing is recorded.
"""

from __future__ import annotations

import json
import re
from typing import Any

from dselab import service
from dselab.check_engine import ERROR, FAIL, PASS, CheckResult
from dselab.classroom.backend import Observed
from dselab.errors import EnvironmentProblem
from dselab.lab import Lab, Step
from dselab.runtime.base import CLUSTER_NODES, LAB_NODES

MAX_OUTPUT_BYTES = 8 << 20  # an observer's whole answer (a backend caps what it reads at one byte more)
MAX_TEXT = 600  # a message or hint, one line
MAX_EVIDENCE_BYTES = 64 << 10  # per attempt
MAX_FACTS, MAX_FACT_BYTES = 32, 4096
VERSION = re.compile(r"^\d{1,3}(\.\d{1,4}){1,3}([.-][A-Za-z0-9]{1,20})?$")
RING_STATE = re.compile(r"^[A-Z?]{1,4}$")
FACT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")  # a fact is only ever a fact: the store keeps it apart


class MalformedObservation(EnvironmentProblem):
    def __init__(self, what: str) -> None:
        super().__init__(f"the observer's answer was refused: {what}",
                         fix="check again; if it persists, the instructor can reset the seat")


def answer(seat_id: str, observed: Observed) -> Any:
    """The last line of an observer's output as JSON; its own error as an EnvironmentProblem. Nothing
    of the observer's stderr is shown: a seat shapes what its observer reads, so it is no message for it."""
    data, code = observed.output, observed.exit_code
    if len(data) > MAX_OUTPUT_BYTES:
        raise EnvironmentProblem(f"seat {seat_id}: the observer's answer is over {MAX_OUTPUT_BYTES >> 20} MiB; refused")
    lines = data.strip().splitlines()
    try:
        found = json.loads(lines[-1]) if lines else None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        found = None
    if found is None:
        raise EnvironmentProblem(f"seat {seat_id}: the observer failed (exit {code}) without an answer",
                                 fix="check again; if it persists, the instructor can reset the seat")
    if isinstance(found, dict) and set(found) == {"error"}:
        raise EnvironmentProblem(f"seat {seat_id}: {str(found['error'])[:600]}")
    return found


def _obj(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedObservation(f"{what} is not an object")
    return data


def one_line(text: Any, limit: int = MAX_TEXT) -> str:
    if not isinstance(text, str):
        raise MalformedObservation("a message is not text")
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def capped_evidence(evidence: Any, limit: int = MAX_EVIDENCE_BYTES) -> list[Any]:
    """The evidence items that fit in `limit` bytes of JSON, in order, and a note of what was cut."""
    if not isinstance(evidence, list):
        raise MalformedObservation("evidence is not a list")
    kept: list[Any] = []
    used = 2
    for item in evidence:
        size = len(json.dumps(item)) + 1
        if used + size > limit - 200:
            kept.append({"truncated": f"evidence over {limit // 1024} KiB: {len(kept)} of {len(evidence)} items kept"})
            break
        kept.append(item)
        used += size
    return kept


def results(lab: Lab, steps: list[Step], data: Any) -> list[CheckResult]:
    rows = _obj(data, "the observation").get("results")
    if not isinstance(rows, list) or len(rows) != len(steps):
        raise MalformedObservation(f"expected {len(steps)} result(s)")
    out = []
    for step, row in zip(steps, rows, strict=True):
        row = _obj(row, "a result")
        if row.get("id") != step.id:
            raise MalformedObservation(f"a result for {row.get('id')!r} where {step.id!r} was asked")
        status = row.get("status")
        if status not in (PASS, FAIL, ERROR):
            raise MalformedObservation(f"status {status!r}")
        seconds = row.get("seconds", 0.0)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds < 86400:
            raise MalformedObservation("seconds out of range")
        out.append(CheckResult(lab=lab.id, step=step.id, number=step.number, title=step.title, status=status,
                               message=one_line(row.get("message", "")), hint=one_line(row.get("hint", "")),
                               evidence=capped_evidence(row.get("evidence", [])), seconds=round(float(seconds), 3)))
    return out


def facts(lab: Lab, data: Any) -> dict[str, Any]:
    """Facts a check kept for later checks (`ctx.keep_fact`): few, small, well named."""
    given = _obj(_obj(data, "the observation").get("facts", {}), "facts")
    if len(given) > MAX_FACTS:
        raise MalformedObservation(f"{len(given)} facts (at most {MAX_FACTS})")
    for key, value in given.items():
        if not FACT_NAME.match(key):
            raise MalformedObservation(f"fact {key[:80]!r} is not a fact's name")
        if len(json.dumps(value)) > MAX_FACT_BYTES:
            raise MalformedObservation(f"fact {key[:80]!r} is over {MAX_FACT_BYTES} bytes")
    return given


def seat_answers(lab: Lab, data: Any) -> dict[str, str]:
    """Answers given in the seat's shell: only for steps that ask one, only well-formed values."""
    given = _obj(_obj(data, "the observation").get("seat_answers", {}), "seat_answers")
    asked = {s.id for s in lab.steps if s.needs_answer}
    for step_id, value in given.items():
        if step_id not in asked or not isinstance(value, str) or not service.SAFE_VALUE.match(value):
            raise MalformedObservation(f"an answer for {step_id[:40]!r}")
    return given


def baseline(data: Any) -> dict[str, Any]:
    data = _obj(data, "the observation")
    marks = _obj(data.get("log_marks"), "log_marks")
    if set(marks) - set(LAB_NODES) or not all(type(v) is int and 0 <= v < 1 << 50 for v in marks.values()):
        raise MalformedObservation("log marks")
    version = data.get("cassandra_version")
    if not isinstance(version, str) or not VERSION.match(version):
        raise MalformedObservation("the Cassandra version")
    return {"log_marks": marks, "cassandra_version": version}


def ring(data: Any) -> dict[str, str]:
    """Node name -> the ring's state for it (UN, DN, ...)."""
    rows = _obj(data, "the observation").get("nodes")
    if not isinstance(rows, list) or len(rows) > len(LAB_NODES):
        raise MalformedObservation("nodes")
    states = {}
    for row in rows:
        row = _obj(row, "a node")
        if row.get("name") not in LAB_NODES or not isinstance(row.get("state"), str) \
                or not RING_STATE.match(row["state"]):
            raise MalformedObservation("a node's name or state")
        states[row["name"]] = row["state"]
    return states


def cluster(data: Any) -> dict[str, Any]:
    """What a report says about the cluster it graded."""
    info = _obj(_obj(data, "the observation").get("cluster", {}), "cluster")
    version = info.get("cassandra_version")
    nodes = info.get("nodes", [])
    known = {n for names in CLUSTER_NODES.values() for n in names}
    if version is not None and (not isinstance(version, str) or not VERSION.match(version)):
        raise MalformedObservation("the cluster's Cassandra version")
    if not isinstance(nodes, list) or not set(nodes) <= known:
        raise MalformedObservation("the cluster's nodes")
    out: dict[str, Any] = {"runtime": "local", "cassandra_version": version, "nodes": nodes}
    if "error" in info:
        out["error"] = one_line(info["error"])
    return out
