"""The host backend: a seat is a Unix user (and its observer user) in a network namespace of its own,
under cgroup limits, running the shared toolchain; the classroom runs as root (classroom.host.*).

Its facts about a seat (user, namespace, home) are derived from the seat id (`HostSeat.of`), so the
registry keeps nothing of them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from dselab.classroom import capacity
from dselab.classroom.backend import Lines, Observed, SeatPoll
from dselab.classroom.host import limits, namespaces, seat_template, seats, toolchain, users
from dselab.classroom.host.observe import make_observer, observe
from dselab.classroom.host.privilege import require_root
from dselab.classroom.host.seats import HostSeat
from dselab.classroom.layout import Layout
from dselab.classroom.registry import Seat
from dselab.classroom.web.terminal import ShellSpec
from dselab.errors import UsageError


class _Lines:
    """Progress from in-process work (toolchain preparation) as plain lines."""

    def __init__(self, say: Lines, prefix: str) -> None:
        self.say, self.prefix = say, prefix

    def step(self, message: str) -> None:
        self.say(f"{self.prefix}{message}")

    def done(self, message: str) -> None:
        self.say(f"{self.prefix}{message}")


def write_tools_conf(layout: Layout) -> None:
    """Logging config for the nodetool JVMs of observers: root's, readable by every observer."""
    from dselab.runtime.local_config import TOOLS_LOGBACK_XML

    layout.tools_conf.mkdir(mode=0o755, parents=True, exist_ok=True)
    (layout.tools_conf / "logback-tools.xml").write_text(TOOLS_LOGBACK_XML)
    (layout.tools_conf / "logback-tools.xml").chmod(0o644)


class HostBackend:
    """Seats as Unix users in network namespaces on this host (see the module's docstring)."""

    name = "host"

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def seat(self, seat: Seat) -> HostSeat:
        """This backend's facts about a seat: its user, namespace and home."""
        return HostSeat.of(self.layout, seat)

    def _tools(self) -> toolchain.Toolchain:
        return toolchain.current(self.layout)

    def require(self) -> None:
        require_root()

    def plan(self, seats: Sequence[Seat], known: Collection[str]) -> None:
        by_user: dict[str, str] = {}
        for seat in seats:
            user = users.user_name(seat.id)
            if user in by_user:
                raise UsageError(f"students {by_user[user]!r} and {seat.id!r} map to the same user {user}")
            by_user[user] = seat.id
            if seat.id not in known:
                users.check_free(user)

    def capacity(self, to_start: int, running: int = 0) -> capacity.Plan:
        return capacity.require(to_start, settings=self.layout.settings, running=running)

    def prepare(self, say: Lines) -> None:
        say(limits.describe(settings=self.layout.settings))
        self.layout.make_dirs()
        write_tools_conf(self.layout)
        tools = toolchain.ensure(self.layout, _Lines(say, "toolchain: "))
        seat_template.ensure(self.layout, tools, say)

    def teardown(self, say: Lines, templates: bool = False) -> None:
        if self.layout.shared_template and not templates:
            say(f"the seats' cluster template is kept in {self.layout.builder_home} (shared through "
                "DSELAB_CLASSROOM_TEMPLATES; `dselab classroom down --purge --templates` removes it)")
            return
        seat_template.remove(self.layout)
        say(f"template builder removed{' with the shared template' if self.layout.shared_template else ''}")

    def create(self, seat: Seat) -> None:
        host_seat = self.seat(seat)
        seats.create(host_seat)
        make_observer(self.layout, host_seat)  # a seat made before observers existed gets one too

    def start(self, seat: Seat, on_line: Lines | None = None) -> None:
        host_seat, tools = self.seat(seat), self._tools()
        seats.fill_home(host_seat, tools)
        seats.start(host_seat, tools, on_line)

    def stop(self, seat: Seat, on_line: Lines | None = None) -> None:
        seats.stop(self.seat(seat), self._tools(), on_line)

    def poll(self, seat: Seat) -> SeatPoll:
        host_seat = self.seat(seat)
        present = namespaces.exists(host_seat.netns)
        return SeatPoll(present=present, nodes=frozenset(seats.node_processes(host_seat)),
                        facts={"user": host_seat.user, "home": str(host_seat.home), "netns": host_seat.netns},
                        note="" if present else "no namespace (seat not up)")

    def wipe(self, seat: Seat) -> None:
        seats.wipe_cluster(self.seat(seat), self.layout.settings)

    def remove(self, seat: Seat) -> str:
        host_seat = self.seat(seat)
        seats.remove(host_seat, self.layout.settings)
        return f"user {host_seat.user}, namespace {host_seat.netns}, {host_seat.home}"

    def shell(self, seat: Seat, argv: Sequence[str] = ()) -> ShellSpec:
        host_seat, tools = self.seat(seat), self._tools()
        spec = seats.shell_spec(host_seat, tools)
        return spec if not argv else ShellSpec(tuple(seats.seat_argv(host_seat, tools, argv)), spec.cwd, spec.env)

    def observe(self, seat: Seat, request: dict[str, Any]) -> Observed:
        return observe(self.layout, self.seat(seat), request)
