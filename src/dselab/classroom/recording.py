"""The server's side of checking a seat: ask its observer (through the seat's backend), validate the
observation, record it.

The server alone writes a seat's records (its store under server/stores/, out of every seat's reach)
and signs grades; it never opens a path inside a seat's home, nor the seat's own store. What the
checks need from its records goes to the observer in the request (classroom.observer).

`check_seat` is what the instructor's `classroom check` and the browser's Check button call.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from dselab import service
from dselab.catalogue import get_lab
from dselab.check_engine import CheckResult
from dselab.classroom import observation, registry
from dselab.classroom.backend import SeatBackend
from dselab.classroom.backends import open_backend
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.grading.report import Report
from dselab.grading.run import report_from
from dselab.lab import Lab, Step
from dselab.state import Baseline, StateStore


def check_request(store: StateStore, lab: Lab, steps: Sequence[Step], source: str) -> dict[str, Any]:
    """What the observer needs to check `steps`: the server's records of this lab run."""
    asked = [s.id for s in lab.steps if s.needs_answer]
    answers = {step_id: store.answer(lab.id, step_id) for step_id in asked}
    taken = {step_id: store.seat_answer(lab.id, step_id) for step_id in asked}
    return {"op": "check", "lab": lab.id, "steps": [s.id for s in steps], "source": source,
            "baseline": store.baseline(lab.id), "facts": store.facts(lab.id),
            "answers": {k: v for k, v in answers.items() if v is not None},
            "seat_answers": {k: v for k, v in taken.items() if v is not None},
            "attempts": store.attempt_summaries(lab.id)}


def record(store: StateStore, lab: Lab, data: Any, steps: Sequence[Step], source: str) -> list[CheckResult]:
    """Validate a check observation whole, then record it: answers taken, facts, attempts."""
    results = observation.results(lab, list(steps), data)
    facts = observation.facts(lab, data)
    answers = observation.seat_answers(lab, data)
    for step_id, value in answers.items():
        store.set_answer(lab.id, step_id, value)
        store.set_seat_answer(lab.id, step_id, value)
    for name, value in facts.items():
        store.set_fact(lab.id, name, value)
    for r in results:
        store.record_attempt(lab.id, r.step, r.status, r.message, r.evidence, source, hint=r.hint)
    return results


def observe(backend: SeatBackend, seat: Seat, request: dict[str, Any]) -> Any:
    """The seat's observer's answer to `request`, parsed (each part validated by its reader)."""
    return observation.answer(seat.id, backend.observe(seat, request))


def _observed_checks(backend: SeatBackend, seat: Seat, lab: Lab, steps: Sequence[Step], source: str,
                     store: StateStore) -> tuple[list[CheckResult], Any]:
    data = observe(backend, seat, check_request(store, lab, steps, source))
    return record(store, lab, data, steps, source), data


def check_seat(seat_id: str, lab_ref: str, steps: Sequence[str] = (),
               backend: SeatBackend | None = None) -> list[CheckResult]:
    """Run and record the checks of `steps` (all when empty) for one seat."""
    backend = backend or open_backend()
    seat = registry.get(backend.layout, seat_id)
    lab = get_lab(lab_ref)
    selected = lab.select(list(steps))  # unknown steps: one-line error before anything runs
    store = seat.server_store()
    try:
        return _observed_checks(backend, seat, lab, selected, "classroom", store)[0]
    finally:
        store.close()


def grade_seat(backend: SeatBackend, seat: Seat, lab_ref: str) -> Report:
    """Every check of the lab now, credited with the run's history: the report, unsigned."""
    lab = get_lab(lab_ref)
    store = seat.server_store()
    try:
        started_at = store.run_started_at(lab.id)
        history = store.attempts(lab.id, since=started_at)  # before this grading's own attempts
        results, data = _observed_checks(backend, seat, lab, lab.steps, "classroom", store)
        return report_from(lab, seat.id, started_at, history, results, observation.cluster(data), "classroom")
    finally:
        store.close()


def record_answer(seat_id: str, lab_ref: str, step_ref: str, value: str, layout: Layout | None = None) -> dict[str, Any]:
    """An answer given on the server's side (instructor, or the browser's answer box): validated and
    kept by the server; no observer needed."""
    layout = layout or Layout.current()
    seat = registry.get(layout, seat_id)
    lab = get_lab(lab_ref)
    step = lab.step(step_ref)
    store = seat.server_store()
    try:
        service.store_answer(store, lab, step, value)
    finally:
        store.close()
    return {"step": step.id, "number": step.number}


def start_lab(backend: SeatBackend, seat: Seat, lab_ref: str) -> dict[str, Any]:
    """A fresh run of the lab for the seat: log marks observed, the baseline kept by the server
    (attempts and answers of the previous run cleared)."""
    lab = get_lab(lab_ref)
    seen = observation.baseline(observe(backend, seat, {"op": "baseline"}))
    base = Baseline(log_marks=seen["log_marks"], cassandra_version=seen["cassandra_version"],
                    started_at=time.time(), fingerprint=None)
    store = seat.server_store()
    try:
        store.start_run(lab.id, base)
    finally:
        store.close()
    return {"lab": lab.id, "baseline": base}


def has_baseline(seat: Seat, lab_ref: str) -> bool:
    store = seat.server_store()
    try:
        return store.baseline(get_lab(lab_ref).id) is not None
    finally:
        store.close()


def ring_states(backend: SeatBackend, seat: Seat) -> dict[str, str]:
    """Node -> the ring's own view of it (UN, DN, ...), as the seat's observer sees it."""
    return observation.ring(observe(backend, seat, {"op": "status"}))
