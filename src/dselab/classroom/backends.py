"""The choice of a seat backend, made once per classroom command or server and passed down.

The host backend (classroom.host: Unix users in network namespaces) is the default and the only real
one; tests pass a fake of their own to the orchestration functions instead.
"""

from __future__ import annotations

from dselab.classroom.backend import SeatBackend
from dselab.classroom.host.backend import HostBackend
from dselab.classroom.layout import Layout

BACKENDS = {"host": HostBackend}


def open_backend(layout: Layout | None = None, name: str = "host") -> SeatBackend:
    """The backend `name` over `layout` (the current classroom's when not given)."""
    return BACKENDS[name](layout or Layout.current())
