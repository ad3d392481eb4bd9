"""A lab session: what a lab page needs from wherever the lab runs (check, answer, progress, health,
variables), whatever the front end. `dselab serve` has one over the student's own cluster
(web.local_session); the classroom has one per seat (classroom.seat_session). The page and its JSON
API are written once, over this interface (web.lab_pages).

The shared shapes are built here too, once: a check's error result, a lab's progress from the store,
and the cluster's status box.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from dselab.errors import DselabError, UsageError
from dselab.lab import Lab, Step, find_lab
from dselab.outcomes import CheckStatus, NodeState
from dselab.state import StateStore

DOWN_MESSAGE = "The lab cluster is down. Start it with ./scripts/up-cluster.sh (or dselab up)."


class LabSession(Protocol):
    def labs(self) -> Sequence[Lab]:
        """The labs this session serves."""
        ...

    def variables(self) -> dict[str, Any]:
        """The template variables of the running version (command forms differ by version)."""
        ...

    def check(self, lab: Lab, step: Step) -> dict[str, Any]:
        """Run and record the step's check: a result dict, an error result when it cannot run."""
        ...

    def answer(self, lab: Lab, step: Step, value: str) -> dict[str, Any]:
        """Keep an answer, then check it. A malformed answer raises UsageError."""
        ...

    def progress(self, lab: Lab) -> dict[str, Any]:
        """lab_progress of this session's records; a DselabError when they cannot be read."""
        ...

    def health(self) -> dict[str, Any]:
        """The status box: {up, message, nodes: [{name, address, state}]}."""
        ...


class LabNotFound(UsageError):
    """An unknown lab or step id in a URL; carries the lab when only the step was wrong."""

    def __init__(self, message: str, lab: Lab | None = None) -> None:
        super().__init__(message)
        self.lab = lab


def find(labs: Sequence[Lab], lab_ref: str, step_ref: str | None = None) -> tuple[Lab, Step | None]:
    try:
        lab = find_lab(labs, lab_ref)
    except UsageError as err:
        raise LabNotFound(err.message) from None
    if step_ref is None:
        return lab, None
    try:
        return lab, lab.step(step_ref)
    except UsageError as err:
        raise LabNotFound(err.message, lab) from None


def error_result(lab: Lab, step: Step, message: str, hint: str = "") -> dict[str, Any]:
    """A check that could not run, shaped like a result so the page shows it in place."""
    return {"lab": lab.id, "id": step.id, "number": step.number, "title": step.title,
            "status": CheckStatus.ERROR, "message": message, "hint": hint, "seconds": 0.0}


def answered_then_checked(session: LabSession, lab: Lab, step: Step, keep: Callable[[], object]) -> dict[str, Any]:
    """What `answer` returns everywhere: `keep` the answer (a malformed one raises UsageError; a store
    that cannot keep it gives an error result), then the step's check."""
    try:
        keep()
    except UsageError:
        raise
    except DselabError as err:
        return error_result(lab, step, err.message, err.fix or "")
    return session.check(lab, step)


def lab_progress(store: StateStore, lab: Lab) -> dict[str, Any]:
    """Per step: passed at least once in this lab run, and the last check's outcome."""
    passed = store.passed_steps(lab.id)
    steps: dict[str, dict[str, Any]] = {
        s.id: {"id": s.id, "number": s.number, "title": s.title, "passed": s.id in passed, "last": None}
        for s in lab.steps}
    for attempt in store.attempts(lab.id):
        entry = steps.get(attempt["step"])
        if entry is not None:
            entry["last"] = {"status": attempt["status"], "message": attempt["message"], "at": attempt["at"],
                             "source": attempt["source"]}
    return {"lab": lab.id, "passed": len(passed & steps.keys()), "total": len(steps), "steps": list(steps.values())}


def health_box(nodes: Iterable[tuple[str, str, str]], note: str = "") -> dict[str, Any]:
    """The status box from (name, address, state) per node: up when some node serves."""
    shown = [{"name": name, "address": address, "state": str(state)} for name, address, state in nodes]
    states = {n["name"]: NodeState.parse(n["state"]) for n in shown}
    if not any(state.serving for state in states.values()):
        return {"up": False, "message": note or DOWN_MESSAGE, "nodes": shown}
    down = [name for name, state in states.items() if not state.serving]
    return {"up": True, "message": note or (f"Not up: {', '.join(down)}." if down else ""), "nodes": shown}


def down_box(message: str) -> dict[str, Any]:
    return {"up": False, "message": message, "nodes": []}
