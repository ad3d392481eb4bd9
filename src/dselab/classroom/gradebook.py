"""Grades signed on the server: every seat graded by the grader from the server's records, each
report signed here with the course key (never handed to a seat), verified by `dselab gradebook`."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from dselab.catalogue import get_lab
from dselab.classroom import recording, registry
from dselab.classroom.backend import SeatBackend
from dselab.classroom.backends import open_backend
from dselab.classroom.lifecycle import course_key, parallelism, seat_fault
from dselab.classroom.registry import Seat
from dselab.errors import DselabError
from dselab.grading.gradebook import Gradebook, gradebook
from dselab.grading.gradebook_files import check_gradebook_out, write_gradebook
from dselab.grading.report_files import write_report
from dselab.grading.signing import sign


def build(out_file: Path, reports_dir: Path, lab_ref: str, key_file: str | None,
          say: Callable[[str], None], backend: SeatBackend | None = None) -> Gradebook:
    backend = backend or open_backend()
    backend.require()
    layout = backend.layout
    check_gradebook_out(out_file)
    key = course_key(layout, key_file)
    lab = get_lab(lab_ref)
    known = list(registry.load(layout).values())

    def grade(seat: Seat) -> None:
        try:
            report = sign(recording.grade_seat(backend, seat, lab.id), key)
        except DselabError as err:
            say(f"{seat.id}: not graded: {err.one_line()}")
            return
        except Exception as err:  # noqa: BLE001  (one seat's failure never costs the class its gradebook)
            say(f"{seat.id}: not graded: {seat_fault(err)}")
            return
        write_report(report, reports_dir / f"{seat.id}-{lab.id}")
        say(f"{seat.id}: {report.score}/{report.max_score}")

    with ThreadPoolExecutor(max_workers=parallelism(layout.settings)) as pool:
        list(pool.map(grade, known))
    book = gradebook([reports_dir], key)
    write_gradebook(book, out_file)
    return book
