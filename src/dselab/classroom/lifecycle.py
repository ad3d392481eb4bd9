"""The instructor's classroom-wide operations: up (only what is missing), down, purge, reset.

Every precondition (root, roster, key file, user names, memory) is checked before the first side
effect. Seats start a few at a time (a 2-core host cannot start more at once) and report progress
as `<seat>: <line>`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from dselab import grading
from dselab.classroom import capacity, links, recording, registry
from dselab.classroom.host import limits, seats, toolchain, users
from dselab.classroom.host.observe import make_observer
from dselab.classroom.host.privilege import require_root
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.errors import DselabError, UsageError

PARALLEL_ENV = "DSELAB_CLASSROOM_PARALLEL"
Say = Callable[[str], None]


def parallelism() -> int:
    return max(1, int(os.environ.get(PARALLEL_ENV) or min(2, os.cpu_count() or 1)))


@dataclass
class SeatOutcome:
    seat: str
    ok: bool
    detail: str


class _Lines:
    """Progress from in-process work (toolchain preparation) as plain lines."""

    def __init__(self, say: Say, prefix: str) -> None:
        self.say, self.prefix = say, prefix

    def step(self, message: str) -> None:
        self.say(f"{self.prefix}{message}")

    def done(self, message: str) -> None:
        self.say(f"{self.prefix}{message}")


def _each(seat_list: Sequence[Seat], work: Callable[[Seat], str], say: Say) -> list[SeatOutcome]:
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

    with ThreadPoolExecutor(max_workers=parallelism()) as pool:
        return list(pool.map(one, seat_list))


def seat_fault(err: Exception) -> str:
    """An unexpected error in one seat's work, in one line (what a loop over seats reports for it)."""
    return f"unexpected {type(err).__name__}: {' '.join(str(err).split())[:200]}"


def write_tools_conf(layout: Layout) -> None:
    """Logging config for the nodetool JVMs of observers: root's, readable by every observer."""
    from dselab.runtime.local_config import TOOLS_LOGBACK_XML

    layout.tools_conf.mkdir(mode=0o755, parents=True, exist_ok=True)
    (layout.tools_conf / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)
    (layout.tools_conf / "logback-tools.xml").chmod(0o644)


def plan_seats(layout: Layout, student_ids: Sequence[str] | None) -> list[Seat]:
    """The seats `up` works on: the roster's (new ones planned), or every known seat."""
    known = registry.load(layout)
    wanted = list(student_ids) if student_ids else list(known)
    if not wanted:
        raise UsageError("the classroom has no seats yet", fix="give --seats N or --roster FILE")
    planned = [known.get(sid) or Seat.planned(layout, sid) for sid in wanted]
    by_user: dict[str, str] = {}
    for seat in planned:
        if seat.user in by_user:
            raise UsageError(f"students {by_user[seat.user]!r} and {seat.id!r} map to the same user {seat.user}")
        by_user[seat.user] = seat.id
        if seat.id not in known:
            users.check_free(seat.user)
    return planned


def up(student_ids: Sequence[str] | None, key_file: str | None, say: Say, lab: str = seats.DEFAULT_LAB,
       layout: Layout | None = None) -> list[SeatOutcome]:
    require_root()
    layout = layout or Layout.current()
    key = grading.load_key(key_file) if key_file else None  # a missing or empty key: error now
    planned = plan_seats(layout, student_ids)
    missing = [s for s in planned if not seats.running(s)]
    plan = capacity.require(len(missing))
    say(f"{len(planned)} seat(s), {len(missing)} to start; memory for {plan.fits} more "
        f"({plan.per_seat_mib} MiB per seat, {plan.available_mib} MiB available); {parallelism()} at a time")
    say(limits.describe())
    layout.make_dirs()
    write_tools_conf(layout)
    if key is not None:
        _store_key(layout, key)
    tc = toolchain.ensure(layout, _Lines(say, "toolchain: "))
    known = registry.load(layout)
    known.update({s.id: s for s in planned})
    registry.save(layout, known)
    links.ensure(layout, known)  # the first `up` of this root makes the classroom id its links are bound to

    def bring_up(seat: Seat) -> str:
        def line(text: str) -> None:
            say(f"{seat.id}: {text.strip()}")

        if seats.running(seat) and recording.has_baseline(seat, lab):
            make_observer(layout, seat)  # a seat made before observers existed gets one
            line("already running")
            return "running"
        seats.create(seat)
        make_observer(layout, seat)
        seats.fill_home(seat, tc)
        seats.start(seat, tc, line)
        if not recording.has_baseline(seat, lab):
            recording.start_lab(layout, seat, lab)
            line(f"lab {lab} started (baseline recorded by the server)")
        line(f"ready: user {seat.user}, home {seat.home}")
        return "up"

    return _each(planned, bring_up, say)


def _store_key(layout: Layout, key: bytes) -> None:
    fd = os.open(layout.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fd, 0o600)
        fh.write(key + b"\n")


def course_key(layout: Layout, key_file: str | None) -> bytes:
    """--key-file if given, else the key `up` kept on the server; no key is an error for signing."""
    key = grading.load_key(key_file) if key_file else (grading.load_key(layout.key_file)
                                                       if layout.key_file.exists() else None)
    if key is None:
        raise UsageError("no course key: the gradebook must be signed",
                         fix="pass --key-file (or give it to `classroom up`)")
    return key


def down(purge: bool, say: Say, layout: Layout | None = None) -> list[SeatOutcome]:
    """Stop every seat keeping its data; with purge remove seats, users, namespaces and every folder."""
    require_root()
    layout = layout or Layout.current()
    known = registry.load(layout)
    tc = toolchain.current(layout)

    def stop(seat: Seat) -> str:
        if purge:
            seats.remove(seat)
            say(f"{seat.id}: removed (user {seat.user}, namespace {seat.netns}, {seat.home})")
            return "removed"
        seats.stop(seat, tc, lambda text: say(f"{seat.id}: {text.strip()}"))
        say(f"{seat.id}: stopped (data kept)")
        return "stopped"

    outcomes = _each(list(known.values()), stop, say)
    if purge:
        left = {o.seat: known[o.seat] for o in outcomes if not o.ok}
        if left:
            registry.save(layout, left)
        elif layout.root.exists():
            shutil.rmtree(layout.root)
            say(f"removed {layout.root}")
            if layout.root.parent.name == "dselab" and not any(layout.root.parent.iterdir()):
                layout.root.parent.rmdir()  # /var/lib/dselab, made by `up`
    return outcomes


def reset(seat_id: str, say: Say, lab: str = seats.DEFAULT_LAB, layout: Layout | None = None) -> None:
    """One seat: a fresh cluster from scratch, fresh home files and a fresh lab run."""
    require_root()
    layout = layout or Layout.current()
    seat = registry.get(layout, seat_id)
    tc = toolchain.current(layout)

    def line(text: str) -> None:
        say(f"{seat.id}: {text.strip()}")

    line("stopping and removing its clusters")
    seats.wipe_cluster(seat)
    seats.create(seat)
    make_observer(layout, seat)
    seats.fill_home(seat, tc)
    seats.start(seat, tc, line)
    recording.start_lab(layout, seat, lab)
    line(f"reset done; lab {lab} started afresh")
