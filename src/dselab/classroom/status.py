"""What the instructor sees per seat: user, home, each node's state, steps passed per lab."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from dselab.catalogue import load_all
from dselab.classroom import recording, registry
from dselab.classroom.backend import SeatBackend
from dselab.classroom.backends import open_backend
from dselab.classroom.lifecycle import parallelism, seat_fault
from dselab.classroom.registry import Seat
from dselab.errors import DselabError
from dselab.outcomes import NodeState
from dselab.runtime.base import LAB_NODES


@dataclass
class SeatStatus:
    seat: str
    user: str  # where the seat lives, as its backend tells (host: its Unix user, home, namespace)
    home: str
    netns: str
    nodes: dict[str, NodeState]  # node -> the ring's view (UN, DN ...); STOPPED: no process; RUNNING: ring not asked
    passed: dict[str, list[int]] = field(default_factory=dict)  # lab id -> step numbers passed this run
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _passed(seat: Seat) -> dict[str, list[int]]:
    store = seat.server_store()
    try:
        out = {}
        for lab in load_all():
            if store.baseline(lab.id) is None:
                continue
            done = store.passed_steps(lab.id)
            out[lab.id] = [s.number for s in lab.steps if s.id in done]
        return out
    finally:
        store.close()


def seat_status(backend: SeatBackend, seat: Seat) -> SeatStatus:
    poll = backend.poll(seat)
    nodes = {n: (NodeState.RUNNING if n in poll.nodes else NodeState.STOPPED) for n in LAB_NODES}
    note = ""
    if not poll.present:
        note = poll.note or "seat not up"
    elif poll.nodes:
        try:  # the ring's own view (UN/DN), as the seat's observer sees it
            ring = recording.ring_states(backend, seat)
            nodes = {name: (NodeState.parse(ring.get(name, NodeState.UP_NORMAL)) if name in poll.nodes
                            else NodeState.STOPPED) for name in LAB_NODES}
        except DselabError as err:
            note = err.one_line()
    return SeatStatus(seat.id, poll.facts.get("user", ""), poll.facts.get("home", ""), poll.facts.get("netns", ""),
                      nodes, _passed(seat), note)


def safe_seat_status(backend: SeatBackend, seat: Seat) -> SeatStatus:
    """seat_status, or that seat shown as errored: one seat's failure never stops a loop over seats."""
    try:
        return seat_status(backend, seat)
    except Exception as err:  # noqa: BLE001  (whatever one seat did, the others are still reported)
        nodes = {n: NodeState.UNKNOWN for n in LAB_NODES}
        return SeatStatus(seat.id, "", "", "", nodes, {}, f"status failed: {seat_fault(err)}")


def classroom_status(backend: SeatBackend | None = None) -> list[SeatStatus]:
    backend = backend or open_backend()
    backend.require()
    known = list(registry.load(backend.layout).values())
    load_all()  # once, before the seat threads read it
    with ThreadPoolExecutor(max_workers=parallelism(backend.layout.settings)) as pool:
        return list(pool.map(lambda s: safe_seat_status(backend, s), known))
