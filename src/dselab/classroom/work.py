"""What the classroom web server does for seats, on the server's side: checks, answers, progress,
cluster health, resets and the gradebook. The web routes only call this (one object per server).

Checks go through classroom.recording (the seat's observer reads it, the server validates and records
what it saw); answers, progress and attempts are the server's own store. One check at a time per seat:
two tabs of one student must not run two observers on the same cluster at once. Every loop over seats
(health, grid) shows a failing seat as errored and goes on.
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dselab.checking import ERROR, PASS
from dselab.classroom import gradebook, lifecycle, recording, registry, status
from dselab.classroom.backend import SeatBackend
from dselab.classroom.backends import open_backend
from dselab.classroom.check_queue import CheckQueue
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.terminal import ShellSpec
from dselab.errors import DselabError, UsageError
from dselab.lab import Lab, Step, get_lab
from dselab.render import OFFLINE_VARS
from dselab.web.app import lab_progress

HEALTH_TTL_S = 15.0  # each seat's health asks its ring (a JVM per seat): polls share one answer
EVIDENCE_ATTEMPTS = 20  # the last attempts of a step shown with their evidence (each capped at 64 KiB)


def error_result(lab: Lab, step: Step, message: str, hint: str = "") -> dict[str, Any]:
    return {"lab": lab.id, "id": step.id, "number": step.number, "title": step.title,
            "status": ERROR, "message": message, "hint": hint, "seconds": 0.0}


class _Cached:
    """One value recomputed at most every `ttl` seconds; concurrent askers wait for one computation."""

    def __init__(self, compute: Callable[[], Any], ttl: float) -> None:
        self._compute, self._ttl = compute, ttl
        self._lock = threading.Lock()
        self._value: tuple[float, Any] | None = None

    def get(self) -> Any:
        with self._lock:
            if self._value is None or time.monotonic() - self._value[0] >= self._ttl:
                self._value = (time.monotonic(), self._compute())
            return self._value[1]


class _Refreshed:
    """A value refreshed in the background at most every `ttl` seconds; askers get the last one at once
    (`initial` until the first computation ends), so a slow ring never holds up the grid."""

    def __init__(self, compute: Callable[[], Any], ttl: float, initial: Any) -> None:
        self._compute, self._ttl, self._value = compute, ttl, initial
        self._lock = threading.Lock()
        self._at = float("-inf")
        self._running = False

    def _run(self) -> None:
        try:
            value = self._compute()
        except Exception:  # noqa: BLE001  (the refresh must outlive any one failure: it runs again next time)
            value = self._value
        with self._lock:
            self._value, self._at, self._running = value, time.monotonic(), False

    def get(self) -> Any:
        with self._lock:
            if not self._running and time.monotonic() - self._at >= self._ttl:
                self._running = True
                threading.Thread(target=self._run, name="classroom-health", daemon=True).start()
            return self._value


class ClassroomWork:
    """The seats of one classroom (Layout) and lab, as the web server sees them."""

    def __init__(self, layout: Layout, lab_ref: str = lifecycle.DEFAULT_LAB, backend: SeatBackend | None = None) -> None:
        self.layout = layout
        self.backend = backend or open_backend(layout)  # where the seats live (the host's unless given)
        self.lab = get_lab(lab_ref)
        self._seat_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._health: dict[str, _Cached] = {}
        self._class_health = _Refreshed(self._all_health, HEALTH_TTL_S, {})
        self.resetting: dict[str, str] = {}  # seat id -> "resetting" / the last reset's error
        self.check_queue = CheckQueue.from_env()  # a few checks at once for the class; full: "busy"

    # -- seats ------------------------------------------------------------------------------------

    def seats(self) -> dict[str, Seat]:
        return registry.load(self.layout)

    def shells(self) -> dict[str, ShellSpec]:
        return {seat_id: self.backend.shell(seat) for seat_id, seat in self.seats().items()}

    def variables(self) -> dict[str, Any]:
        return OFFLINE_VARS  # every seat runs the server's toolchain: Cassandra 5.0.9, local nodes

    def _lock(self, seat_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._seat_locks.setdefault(seat_id, threading.Lock())

    # -- a seat's page ----------------------------------------------------------------------------

    def check(self, seat_id: str, lab: Lab, step: Step) -> dict[str, Any]:
        try:
            with self._lock(seat_id), self.check_queue.turn():
                results = recording.check_seat(seat_id, lab.id, [step.id], self.backend)
        except DselabError as err:
            return error_result(lab, step, err.message, err.fix or "")
        except Exception as err:  # noqa: BLE001  (a seat's page gets a result, never a 500)
            return error_result(lab, step, f"the check could not run: {lifecycle.seat_fault(err)}",
                                "check again; if it persists, tell your instructor")
        return results[0].to_dict()

    def answer(self, seat_id: str, lab: Lab, step: Step, value: str) -> dict[str, Any]:
        try:
            with self._lock(seat_id):
                recording.record_answer(seat_id, lab.id, step.id, value, self.layout)
        except UsageError:
            raise
        except DselabError as err:
            return error_result(lab, step, err.message, err.fix or "")
        return self.check(seat_id, lab, step)

    def progress(self, seat_id: str, lab: Lab) -> dict[str, Any]:
        store = registry.get(self.layout, seat_id).server_store()
        try:
            return lab_progress(store, lab)
        finally:
            store.close()

    def seat_health(self, seat_id: str) -> dict[str, Any]:
        """The status box of a seat's page: {up, message, nodes: [{name, address, state}]}."""
        with self._locks_lock:
            cached = self._health.setdefault(seat_id, _Cached(lambda: self._one_health(seat_id), HEALTH_TTL_S))
        return cached.get()

    def _one_health(self, seat_id: str) -> dict[str, Any]:
        row = status.safe_seat_status(self.backend, registry.get(self.layout, seat_id))
        return _health_box(row.nodes, row.note)

    # -- the instructor ---------------------------------------------------------------------------

    def _all_health(self) -> dict[str, dict[str, Any]]:
        return {row.seat: _health_box(row.nodes, row.note) for row in status.classroom_status(self.backend)}

    def grid(self) -> dict[str, Any]:
        """Students by steps: passed / failed / not tried, attempts, last activity; health per node."""
        health = self._class_health.get()
        rows = []
        for seat_id, seat in sorted(self.seats().items()):
            try:
                cells = step_cells(seat, self.lab)
            except Exception:  # noqa: BLE001  (an unreadable store shows as an empty row, the grid goes on)
                cells = []
            rows.append({"seat": seat_id, "steps": cells,
                         "health": health.get(seat_id, {"up": False, "message": "not known yet", "nodes": []}),
                         "reset": self.resetting.get(seat_id, "")})
        steps = [{"id": s.id, "number": s.number, "title": s.title} for s in self.lab.steps]
        return {"lab": self.lab.id, "steps": steps, "seats": rows, "at": time.time()}

    def evidence(self, seat_id: str, step: Step) -> list[dict[str, Any]]:
        """The step's last attempts with their evidence (each capped when it was recorded)."""
        store = registry.get(self.layout, seat_id).server_store()
        try:
            return store.attempts(self.lab.id, step.id)[-EVIDENCE_ATTEMPTS:]
        finally:
            store.close()

    def start_reset(self, seat_id: str) -> None:
        """Reset one seat in the background (minutes: a fresh cluster); the grid shows its state."""
        registry.get(self.layout, seat_id)  # unknown seat: one-line error now
        if self.resetting.get(seat_id) == "resetting":
            raise UsageError(f"seat {seat_id} is already being reset")
        self.resetting[seat_id] = "resetting"

        def run() -> None:
            try:
                lifecycle.reset(seat_id, lambda line: None, self.lab.id, self.backend)
                self.resetting[seat_id] = ""
            except DselabError as err:
                self.resetting[seat_id] = f"reset failed: {err.one_line()}"
            except Exception as err:  # noqa: BLE001  (shown on the grid, not lost in a thread)
                self.resetting[seat_id] = f"reset failed: {lifecycle.seat_fault(err)}"

        threading.Thread(target=run, name=f"reset-{seat_id}", daemon=True).start()

    def export(self, kind: str) -> bytes:
        """The gradebook (`csv`, `html`) or the signed reports (`zip`, for `dselab gradebook --key-file`)."""
        with tempfile.TemporaryDirectory(prefix="dselab-gradebook-") as tmp:
            folder = Path(tmp)
            out = folder / f"gradebook.{'html' if kind == 'html' else 'csv'}"
            gradebook.build(out, folder / "reports", self.lab.id, None, lambda line: None, self.backend)
            if kind != "zip":
                return out.read_bytes()
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted((folder / "reports").rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(folder))
            return buffer.getvalue()


def _health_box(nodes: dict[str, str], note: str) -> dict[str, Any]:
    shown = [{"name": name, "address": "", "state": state} for name, state in nodes.items()]
    down = [n["name"] for n in shown if n["state"] != "UN"]
    up = any(n["state"] == "UN" for n in shown)
    message = note or (f"Not up: {', '.join(down)}." if down else "")
    return {"up": up, "message": message, "nodes": shown}


def step_cells(seat: Seat, lab: Lab) -> list[dict[str, Any]]:
    """One cell per step of `lab` for `seat`: passed / failed / not tried, attempts, last activity."""
    store = seat.server_store()
    try:
        attempts = store.attempt_summaries(lab.id)  # no evidence: a grid poll decodes none
    finally:
        store.close()
    cells = []
    for step in lab.steps:
        mine = [a for a in attempts if a["step"] == step.id]
        state = "passed" if any(a["status"] == PASS for a in mine) else "failed" if mine else "not tried"
        cells.append({"step": step.id, "number": step.number, "state": state, "attempts": len(mine),
                      "last": mine[-1]["at"] if mine else None})
    return cells
