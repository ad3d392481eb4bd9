"""The observer: what reads a seat for the server, holding no secret and no privilege beyond that seat.

    python -I -m dselab.classroom.observer < request.json > observation.json

The server (classroom.host.observe) runs it as the seat's observer user (a user of its own in the seat's
group: it may read the seat's cluster folders, and the seat cannot signal or trace it), inside the
seat's namespace, under rlimits, with nothing of the server's in its environment. The request
carries what the checks need from the server's records (the baseline, facts earlier checks kept,
attempt summaries, the answers, and those already taken from the seat's own store); the checks run
on a store in memory. It prints one JSON object and keeps nothing: the server validates the
observation (classroom.observation) and alone records it (nbgrader's model: untrusted work runs
apart from what records grades).

    {"op": "baseline"}                      -> {"log_marks": {node: bytes}, "cassandra_version": "5.0.9"}
                                               (and its warm nodetool server started, for the checks)
    {"op": "status"}                        -> {"nodes": [{"name", "address", "state"}]}
    {"op": "check", "lab", "steps", ...}    -> {"results": [...], "facts": {...}, "seat_answers": {...},
                                                "cluster": {...}}
An error is {"error": "one line"} and exit 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from dselab import service
from dselab.catalogue import get_lab
from dselab.errors import DselabError, UsageError
from dselab.lab import Lab
from dselab.paths import home
from dselab.settings import Settings, current, resolve
from dselab.state import StateStore

MAX_REQUEST_BYTES = 4 << 20
SEAT_STORE = "state-local.sqlite"  # the seat's own store, in its DSELAB_HOME


def _scratch_store(lab: Lab, request: dict[str, Any]) -> StateStore:
    """The server's records for this lab, in memory: what the checks read (and may add facts to)."""
    store = StateStore.in_memory()
    if isinstance(request.get("baseline"), dict):
        store.start_run(lab.id, request["baseline"])
    for name, value in (request.get("facts") or {}).items():
        if isinstance(name, str):
            store.set_fact(lab.id, name, value)
    for field, keep in (("answers", store.set_answer), ("seat_answers", store.set_seat_answer)):
        for step_id, value in (request.get(field) or {}).items():
            if isinstance(step_id, str) and isinstance(value, str):
                keep(lab.id, step_id, value)
    for row in request.get("attempts") or []:
        store.record_attempt(lab.id, str(row["step"]), str(row["status"]), "", [], str(row.get("source", "")),
                             at=float(row["at"]))
    return store


def _take_seat_answers(ws: service.Workspace, lab: Lab) -> dict[str, str]:
    """Answers given in the seat's shell that differ from the last ones taken: they become the answers
    these checks judge (the server re-validates and records them)."""
    from dselab.classroom.seat_answers import seat_answers

    asked = [s.id for s in lab.steps if s.needs_answer]
    taken = {}
    for step_id, value in seat_answers(home(ws.settings) / SEAT_STORE, lab.id, asked).items():
        value = value.strip()
        if service.SAFE_VALUE.match(value) and ws.store.seat_answer(lab.id, step_id) != value:
            ws.store.set_answer(lab.id, step_id, value)
            taken[step_id] = value
    return taken


def _cluster(ws: service.Workspace) -> dict[str, Any]:
    try:
        return {"runtime": ws.runtime_name, "cassandra_version": ws.runtime.cassandra_version(),
                "nodes": list(ws.runtime.node_names())}
    except DselabError as err:
        return {"runtime": ws.runtime_name, "cassandra_version": None, "nodes": [], "error": err.message}


def _check(ws: service.Workspace, request: dict[str, Any]) -> dict[str, Any]:
    lab = get_lab(str(request.get("lab", "")))
    steps = [str(s) for s in request.get("steps") or []]
    before = ws.store.facts(lab.id)
    seat_answers = _take_seat_answers(ws, lab)
    results = service.check(ws, lab, steps, str(request.get("source") or "classroom"))
    facts = {k: v for k, v in ws.store.facts(lab.id).items() if before.get(k) != v}
    return {"results": [r.to_dict(with_evidence=True) for r in results], "facts": facts,
            "seat_answers": seat_answers, "cluster": _cluster(ws)}


def observe(request: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    op = request.get("op")
    if op not in ("baseline", "status", "check"):
        raise UsageError(f"observer: unknown operation {op!r}")
    lab = get_lab(str(request["lab"])) if op == "check" else None
    store = _scratch_store(lab, request) if lab else StateStore.in_memory()
    from dselab.runtime.factory import make_runtime
    from dselab.runtime.local import LocalRuntime

    settings = resolve(settings)
    ws = service.Workspace(make_runtime("local", settings=settings), store, "local", settings)
    try:
        if op == "baseline":
            if isinstance(ws.runtime, LocalRuntime):  # a lab run starts: the first Check is answered warm too
                ws.runtime.warm_up_nodetool()
            return {"log_marks": {n: ws.runtime.log_mark(n) for n in ws.runtime.node_names()},
                    "cassandra_version": ws.runtime.cassandra_version()}
        if op == "status":
            return {"nodes": [{"name": r.name, "address": r.address, "state": r.state} for r in ws.runtime.status()]}
        return _check(ws, request)
    finally:
        ws.close()


def main() -> int:
    raw = sys.stdin.buffer.read(MAX_REQUEST_BYTES + 1)
    try:
        if len(raw) > MAX_REQUEST_BYTES:
            raise UsageError("observer: the request is too large")
        try:
            request = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UsageError("observer: the request is not JSON") from None
        if not isinstance(request, dict):
            raise UsageError("observer: the request is not an object")
        out = observe(request, current())  # this process's settings: the environment observe.py gave it
    except DselabError as err:
        print(json.dumps({"error": err.one_line()}))
        return 2
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
