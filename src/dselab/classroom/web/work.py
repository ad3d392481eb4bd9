"""What the classroom web server keeps for its seats (one object per server): each seat's lock and
health, the class's check queue, and the instructor's side: the grid, evidence, resets and the
gradebook. A seat's lab pages go through classroom.seat_session over this.

Every loop over seats (health, grid) shows a failing seat as errored and goes on.
"""

from __future__ import annotations

import io
import tempfile
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dselab.cached import Cached, Refreshed
from dselab.catalogue import DEFAULT_LAB, get_lab
from dselab.classroom import gradebook, lifecycle, registry, status
from dselab.classroom.backend import SeatBackend
from dselab.classroom.backends import open_backend
from dselab.classroom.class_summary import SeatRecord, StuckRules, class_summary, step_state
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.web.check_queue import CheckQueue
from dselab.classroom.web.terminal import ShellSpec
from dselab.errors import DselabError, UsageError
from dselab.lab import Lab, Step
from dselab.lab_session import health_box
from dselab.state import Attempt, AttemptSummary

HEALTH_TTL_S = 15.0  # each seat's health asks its ring (a JVM per seat): polls share one answer
EVIDENCE_ATTEMPTS = 20  # the last attempts of a step shown with their evidence (each capped at 64 KiB)


class ClassroomWork:
    """The seats of one classroom (Layout) and lab, as the web server sees them."""

    def __init__(self, layout: Layout, lab_ref: str = DEFAULT_LAB, backend: SeatBackend | None = None) -> None:
        self.layout = layout
        self.backend = backend or open_backend(layout)  # where the seats live (the host's unless given)
        self.lab = get_lab(lab_ref)
        self._seat_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._health: dict[str, Cached[dict[str, Any]]] = {}
        self._class_health: Refreshed[dict[str, dict[str, Any]]] = Refreshed(self._all_health, HEALTH_TTL_S, {})
        self.resetting: dict[str, str] = {}  # seat id -> "resetting" / the last reset's error
        self.check_queue = CheckQueue.from_env(layout.settings)  # a few checks at once for the class; full: "busy"
        self.stuck_rules = StuckRules.from_settings(layout.settings)  # who the class picture shows as stuck

    # -- seats ------------------------------------------------------------------------------------

    def seats(self) -> dict[str, Seat]:
        return registry.load(self.layout)

    def shells(self) -> dict[str, ShellSpec]:
        return {seat_id: self.backend.shell(seat) for seat_id, seat in self.seats().items()}

    def seat_lock(self, seat_id: str) -> threading.Lock:
        with self._locks_lock:
            return self._seat_locks.setdefault(seat_id, threading.Lock())

    # -- a seat's health ------------------------------------------------------------------------

    def seat_health(self, seat_id: str) -> dict[str, Any]:
        """The status box of a seat's page: {up, message, nodes: [{name, address, state}]}."""
        with self._locks_lock:
            cached = self._health.setdefault(seat_id, Cached(lambda: self._one_health(seat_id), HEALTH_TTL_S))
        return cached.get()

    def _one_health(self, seat_id: str) -> dict[str, Any]:
        row = status.safe_seat_status(self.backend, registry.get(self.layout, seat_id))
        return _health_box(row)

    # -- the instructor ---------------------------------------------------------------------------

    def _all_health(self) -> dict[str, dict[str, Any]]:
        return {row.seat: _health_box(row) for row in status.classroom_status(self.backend)}

    def grid(self) -> dict[str, Any]:
        """Students by steps: passed / failed / not tried, attempts, last activity; health per node;
        and the class at a glance (classroom.class_summary) from the same records."""
        health = self._class_health.get()
        rows, records = [], {}
        for seat_id, seat in sorted(self.seats().items()):
            try:
                records[seat_id] = seat_record(seat, self.lab)
                cells = step_cells(records[seat_id].attempts, self.lab)
            except Exception:  # noqa: BLE001  (an unreadable store shows as an empty row, the grid goes on)
                cells = []
            rows.append({"seat": seat_id, "steps": cells,
                         "health": health.get(seat_id, {"up": False, "message": "not known yet", "nodes": []}),
                         "reset": self.resetting.get(seat_id, "")})
        steps = [{"id": s.id, "number": s.number, "title": s.title} for s in self.lab.steps]
        now = time.time()
        return {"lab": self.lab.id, "steps": steps, "seats": rows, "at": now,
                "summary": class_summary(self.lab.steps, records, now, self.stuck_rules)}

    def evidence(self, seat_id: str, step: Step) -> list[Attempt]:
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


def _health_box(row: status.SeatStatus) -> dict[str, Any]:
    return health_box(((name, "", state) for name, state in row.nodes.items()), row.note)


def seat_record(seat: Seat, lab: Lab) -> SeatRecord:
    """A seat's attempts in this lab run (without evidence: a grid poll decodes none), last messages."""
    store = seat.server_store()
    try:
        return SeatRecord(store.attempt_summaries(lab.id), store.last_messages(lab.id))
    finally:
        store.close()


def step_cells(attempts: Sequence[AttemptSummary], lab: Lab) -> list[dict[str, Any]]:
    """One cell per step of `lab`: passed / failed / not tried, attempts, last activity."""
    cells = []
    for step in lab.steps:
        mine = [a for a in attempts if a["step"] == step.id]
        cells.append({"step": step.id, "number": step.number, "state": step_state(attempts, step.id),
                      "attempts": len(mine), "last": mine[-1]["at"] if mine else None})
    return cells
