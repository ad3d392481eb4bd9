"""The instructor's classroom-wide operations: up (only what is missing), down, purge, reset.

They talk to seats only through a `SeatBackend` (classroom.backend), chosen once by the caller (the
host's by default). Every precondition (the backend's own, roster, key file, names, memory) is checked
before the first side effect. Seats start a few at a time (a 2-core host cannot start more at once)
and report progress as `<seat>: <line>`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from dselab.catalogue import DEFAULT_LAB, get_lab
from dselab.classroom import recording, registry
from dselab.classroom.backend import SeatBackend
from dselab.classroom.backends import open_backend
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.web import links
from dselab.errors import DselabError, UsageError
from dselab.grading.keys import load_key
from dselab.settings import Settings, resolve

Say = Callable[[str], None]


def parallelism(settings: Settings | None = None) -> int:
    """Seats worked on at once: DSELAB_CLASSROOM_PARALLEL, else the host's cores, at most 2."""
    return resolve(settings).classroom.parallel or min(2, os.cpu_count() or 1)


@dataclass
class SeatOutcome:
    seat: str
    ok: bool
    detail: str


def _each(seat_list: Sequence[Seat], work: Callable[[Seat], str], say: Say,
          settings: Settings | None = None) -> list[SeatOutcome]:
    """work(seat) for every seat, `parallelism()` at a time; a failing seat does not stop the others."""

    def one(seat: Seat) -> SeatOutcome:
        try:
            return SeatOutcome(seat.id, True, work(seat))
        except DselabError as err:
            say(f"{seat.id}: FAILED: {err.one_line()}")
            return SeatOutcome(seat.id, False, err.one_line())
        except Exception as err:  # noqa: BLE001  (one seat's surprise is that seat's failure, not the class's)
            say(f"{seat.id}: FAILED: {seat_fault(err)}")
            return SeatOutcome(seat.id, False, seat_fault(err))

    with ThreadPoolExecutor(max_workers=parallelism(settings)) as pool:
        return list(pool.map(one, seat_list))


def seat_fault(err: Exception) -> str:
    """An unexpected error in one seat's work, in one line (what a loop over seats reports for it)."""
    return f"unexpected {type(err).__name__}: {' '.join(str(err).split())[:200]}"


def plan_seats(backend: SeatBackend, student_ids: Sequence[str] | None) -> list[Seat]:
    """The seats `up` works on: the roster's (new ones planned), or every known seat."""
    layout = backend.layout
    known = registry.load(layout)
    wanted = list(student_ids) if student_ids else list(known)
    if not wanted:
        raise UsageError("the classroom has no seats yet", fix="give --seats N or --roster FILE")
    planned = [known.get(sid) or Seat.planned(layout, sid) for sid in wanted]
    backend.plan(planned, set(known))
    return planned


def _store_folder(seat: Seat) -> None:
    """The server's store of the seat (0700, the server's: no seat ever reaches it)."""
    seat.store_dir.mkdir(mode=0o700, parents=True, exist_ok=True)


def up(student_ids: Sequence[str] | None, key_file: str | None, say: Say, lab: str = DEFAULT_LAB,
       backend: SeatBackend | None = None) -> list[SeatOutcome]:
    backend = backend or open_backend()
    backend.require()
    layout = backend.layout
    settings = layout.settings
    key = load_key(Path(key_file)) if key_file else None  # a missing or empty key: error now
    get_lab(lab)  # an unknown lab: error now; and the content is loaded once, not by racing seat threads
    planned = plan_seats(backend, student_ids)
    missing = [s for s in planned if not backend.poll(s).running]
    plan = backend.capacity(len(missing), running=len(planned) - len(missing))
    say(f"{len(planned)} seat(s), {len(missing)} to start; {plan.describe()}; "
        f"{parallelism(settings)} at a time")
    backend.prepare(say)
    if key is not None:
        _store_key(layout, key)
    known = registry.load(layout)
    known.update({s.id: s for s in planned})
    registry.save(layout, known)
    links.ensure(layout, known)  # the first `up` of this root makes the classroom id its links are bound to

    def bring_up(seat: Seat) -> str:
        def line(text: str) -> None:
            say(f"{seat.id}: {text.strip()}")

        _store_folder(seat)
        if backend.poll(seat).running and recording.has_baseline(seat, lab):
            backend.create(seat)  # idempotent: what a seat made by an earlier version lacks (an observer)
            line("already running")
            return "running"
        backend.create(seat)
        backend.start(seat, line)
        if not recording.has_baseline(seat, lab):
            recording.start_lab(backend, seat, lab)
            line(f"lab {lab} started (baseline recorded by the server)")
        line("ready: " + ", ".join(f"{k} {v}" for k, v in backend.poll(seat).facts.items() if k in ("user", "home")))
        return "up"

    return _each(planned, bring_up, say, settings)


def _store_key(layout: Layout, key: bytes) -> None:
    fd = os.open(layout.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, 0o600)
        fh.write(key + b"\n")


def course_key(layout: Layout, key_file: str | None) -> bytes:
    """--key-file if given, else the key `up` kept on the server; no key is an error for signing."""
    key = load_key(Path(key_file)) if key_file else (load_key(layout.key_file)
                                                       if layout.key_file.exists() else None)
    if key is None:
        raise UsageError("no course key: the gradebook must be signed",
                         fix="pass --key-file (or give it to `classroom up`)")
    return key


def down(purge: bool, say: Say, backend: SeatBackend | None = None, templates: bool = False) -> list[SeatOutcome]:
    """Stop every seat keeping its data; with purge remove seats and every folder of the classroom
    (and, with templates, what it shares with other classrooms: the seats' cluster template)."""
    backend = backend or open_backend()
    backend.require()
    layout = backend.layout
    known = registry.load(layout)

    def stop(seat: Seat) -> str:
        if purge:
            what = backend.remove(seat)
            shutil.rmtree(seat.store_dir, ignore_errors=True)
            say(f"{seat.id}: removed ({what})")
            return "removed"
        backend.stop(seat, lambda text: say(f"{seat.id}: {text.strip()}"))
        say(f"{seat.id}: stopped (data kept)")
        return "stopped"

    outcomes = _each(list(known.values()), stop, say, layout.settings)
    if purge:
        left = {o.seat: known[o.seat] for o in outcomes if not o.ok}
        if left:
            registry.save(layout, left)
            return outcomes
        backend.teardown(say, templates)
        if layout.root.exists():
            shutil.rmtree(layout.root)
            say(f"removed {layout.root}")
            if layout.root.parent.name == "dselab" and not any(layout.root.parent.iterdir()):
                layout.root.parent.rmdir()  # /var/lib/dselab, made by `up`
    return outcomes


def reset(seat_id: str, say: Say, lab: str = DEFAULT_LAB, backend: SeatBackend | None = None) -> None:
    """One seat: a fresh cluster from scratch, fresh home files and a fresh lab run."""
    backend = backend or open_backend()
    backend.require()
    seat = registry.get(backend.layout, seat_id)

    def line(text: str) -> None:
        say(f"{seat.id}: {text.strip()}")

    line("stopping and removing its clusters")
    backend.wipe(seat)
    shutil.rmtree(seat.store_dir, ignore_errors=True)
    _store_folder(seat)
    backend.create(seat)
    backend.start(seat, line)
    recording.start_lab(backend, seat, lab)
    line(f"reset done; lab {lab} started afresh")
