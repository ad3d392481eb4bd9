"""The lab session of one classroom seat (a LabSession): what the seat's lab pages ask of the server.

Checks go through classroom.recording (the seat's observer reads it, the server validates and records
what it saw), behind the seat's lock (two tabs of one student must not run two observers on one
cluster at once) and the class's check queue. Answers, progress and attempts are the server's own
store for the seat; health is the seat's ring, shared by its polls.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dselab.classroom import lifecycle, recording, registry
from dselab.classroom.web.work import ClassroomWork
from dselab.errors import DselabError
from dselab.lab import Lab, Step
from dselab.lab_session import answered_then_checked, error_result, lab_progress
from dselab.render import OFFLINE_VARS


class SeatSession:
    def __init__(self, work: ClassroomWork, seat_id: str) -> None:
        self.work, self.seat_id = work, seat_id

    def labs(self) -> Sequence[Lab]:
        return (self.work.lab,)

    def variables(self) -> dict[str, Any]:
        return OFFLINE_VARS  # every seat runs the server's toolchain: the default version, local nodes

    def check(self, lab: Lab, step: Step) -> dict[str, Any]:
        try:
            with self.work.seat_lock(self.seat_id), self.work.check_queue.turn():
                results = recording.check_seat(self.seat_id, lab.id, [step.id], self.work.backend)
        except DselabError as err:
            return error_result(lab, step, err.message, err.fix or "")
        except Exception as err:  # noqa: BLE001  (a seat's page gets a result, never a 500)
            return error_result(lab, step, f"the check could not run: {lifecycle.seat_fault(err)}",
                                "check again; if it persists, tell your instructor")
        return results[0].to_dict()

    def answer(self, lab: Lab, step: Step, value: str) -> dict[str, Any]:
        def keep() -> None:
            with self.work.seat_lock(self.seat_id):
                recording.record_answer(self.seat_id, lab.id, step.id, value, self.work.layout)

        return answered_then_checked(self, lab, step, keep)

    def progress(self, lab: Lab) -> dict[str, Any]:
        store = registry.get(self.work.layout, self.seat_id).server_store()
        try:
            return lab_progress(store, lab)
        finally:
            store.close()

    def health(self) -> dict[str, Any]:
        return self.work.seat_health(self.seat_id)
