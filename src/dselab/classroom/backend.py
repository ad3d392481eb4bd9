"""The seat backend seam: everything the classroom asks of the place a seat lives, in plain data.

The classroom's own part of a seat is its `Seat` record (id, creation time, the server's store folder);
where and how the seat runs is the backend's: a Unix user in a network namespace on this host
(classroom.host, the default and only real one), a fake in the tests, one day a Kubernetes namespace
or a VM. A backend keeps its own facts (user, namespace, home...) itself: derived from the seat id or
kept under its own files, never in the `Seat` record.

Orchestration (lifecycle, status, recording, gradebook) and the web work talk to seats only through
`SeatBackend`, chosen once (classroom.backends) and passed in. The trust model is the backend's to
keep: the server never opens a path inside a seat; `observe` runs the seat's unprivileged observer
and hands back its raw output, which classroom.observation validates as untrusted input.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from dselab.classroom.capacity import Plan
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.web.terminal import ShellSpec
from dselab.runtime.base import LAB_NODES

Lines = Callable[[str], None]


@dataclass(frozen=True)
class SeatPoll:
    """A seat as its backend sees it now (cheap: no observer run)."""

    present: bool  # the seat exists and can be observed (host: its namespace is there)
    nodes: frozenset[str] = frozenset()  # lab nodes with a running process
    facts: dict[str, str] = field(default_factory=dict)  # where it lives, for the instructor (host: user, home, netns)
    note: str = ""  # why it is not present

    @property
    def running(self) -> bool:
        """Every node of the lab's cluster has a process."""
        return set(LAB_NODES) <= self.nodes


@dataclass(frozen=True)
class Observed:
    """One run of a seat's observer: its exit code and its stdout as printed (untrusted, unparsed)."""

    exit_code: int
    output: bytes


class SeatBackend(Protocol):
    """Where seats live (in the spirit of JupyterHub's Spawner). Every operation on one seat may raise
    a DselabError; the classroom's loops over seats report it as that seat's failure and go on."""

    name: str
    layout: Layout

    def require(self) -> None:
        """Refuse, before any side effect, to run where this backend cannot (host: not root, tools missing)."""

    def plan(self, seats: Sequence[Seat], known: Collection[str]) -> None:
        """Refuse seats this backend cannot make (clashing names, a name taken by someone else);
        `known` are the ids the classroom already has."""

    def capacity(self, to_start: int, running: int = 0) -> Plan:
        """Room for `to_start` more running seats beside `running` ones, or an EnvironmentProblem
        saying how many fit."""

    def prepare(self, say: Lines) -> None:
        """What every seat shares (host: the classroom's folders, the toolchain, the seats' cluster
        template), made or refreshed. Only the folders and the toolchain may fail the class; a
        template that cannot be made is said and skipped (seats then start the long way)."""

    def teardown(self, say: Lines, templates: bool = False) -> None:
        """What `prepare` made beyond the classroom's folders (host: the template builder), gone;
        called by a purge once every seat is removed. What other classrooms share (host: a template
        folder named by DSELAB_CLASSROOM_TEMPLATES) stays unless `templates`."""

    def create(self, seat: Seat) -> None:
        """The seat, empty of work (idempotent: a seat that exists, running or not, is kept as it is)."""

    def start(self, seat: Seat, on_line: Lines | None = None) -> None:
        """Home files refreshed and the seat's cluster up (first time: data loaded)."""

    def stop(self, seat: Seat, on_line: Lines | None = None) -> None:
        """The seat's clusters down, data kept (a seat that does not exist: nothing to do)."""

    def poll(self, seat: Seat) -> SeatPoll:
        """Is it there, which nodes run."""

    def wipe(self, seat: Seat) -> None:
        """The seat's processes and clusters gone (a reset), the seat itself kept."""

    def remove(self, seat: Seat) -> str:
        """Everything of the seat the backend made; what was removed, in a few words."""

    def shell(self, seat: Seat, argv: Sequence[str] = ()) -> ShellSpec:
        """How to run the seat's login shell (a browser terminal), or `argv`, as the seat, in its home."""

    def observe(self, seat: Seat, request: dict[str, Any]) -> Observed:
        """Run the seat's observer (classroom.observer) on `request`, unprivileged, capped in time and
        output; its raw answer for classroom.observation to parse and validate."""
