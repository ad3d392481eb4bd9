"""Which join links are live: the classroom id and one nonce per seat and for the instructor.

    server/links.json   root, 0600: {"classroom": hex, "instructor": hex, "seats": {seat id: hex}}

Every token and cookie (classroom.auth) mixes in the classroom id, made by the first `classroom up`
of a classroom root and gone with `down --purge`, so a new `up` voids last term's links even with
the same course key. A seat's token and cookie also mix in that seat's nonce: a rotation (a new
nonce) voids its old links and cookies at once and leaves every other seat's alone. The nonces
are no secrets on their own; every token is an HMAC under the course key.

Writes replace the file atomically (a temporary file renamed over it) under a lock file, so two
commands never lose each other's rotation; the web server reads the file at every request
(`LiveLinks`), so a rotation takes effect at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from dselab.classroom.layout import Layout
from dselab.errors import EnvironmentProblem

NONCE_HEX = re.compile(r"[0-9a-f]{32}")


def new_nonce() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class LinkState:
    classroom: str
    instructor: str
    seats: Mapping[str, str] = field(default_factory=dict)  # seat id -> its link nonce

    def __post_init__(self) -> None:
        object.__setattr__(self, "seats", MappingProxyType(dict(self.seats)))

    @classmethod
    def new(cls, seat_ids: Iterable[str] = ()) -> LinkState:
        """A new classroom: a new id, fresh nonces."""
        return cls(new_nonce(), new_nonce(), {seat_id: new_nonce() for seat_id in seat_ids})

    def current(self) -> LinkState:
        """A fixed state is its own link source (classroom.auth.LinkSource)."""
        return self

    def with_seats(self, seat_ids: Iterable[str]) -> LinkState:
        """Nonces for seats that have none yet; existing links unchanged."""
        missing = [s for s in seat_ids if s not in self.seats]
        return replace(self, seats={**self.seats, **{s: new_nonce() for s in missing}}) if missing else self

    def rotated(self, seat_ids: Iterable[str]) -> LinkState:
        return replace(self, seats={**self.seats, **{s: new_nonce() for s in seat_ids}})

    def rotated_instructor(self) -> LinkState:
        return replace(self, instructor=new_nonce())

    def to_json(self) -> str:
        return json.dumps({"classroom": self.classroom, "instructor": self.instructor, "seats": dict(self.seats)},
                          indent=1)


def read(path: Path) -> LinkState | None:
    """The state kept at `path`; None when there is none yet. A damaged file is an error with its fix."""
    try:
        return parse(path.read_bytes(), path)
    except FileNotFoundError:
        return None


def parse(raw: bytes, path: Path) -> LinkState:
    try:
        data = json.loads(raw)
        seats = data["seats"]
        values = [data["classroom"], data["instructor"], *seats.values()]
        if not all(isinstance(v, str) and NONCE_HEX.fullmatch(v) for v in values):
            raise ValueError("not 32 hex digits")
        return LinkState(data["classroom"], data["instructor"], seats)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise EnvironmentProblem(f"{path} is damaged ({err}): no join link can be checked",
                                 fix="remove it and run `dselab classroom links` (every old link and cookie "
                                     "stops working)") from None


def write(path: Path, state: LinkState) -> None:
    """Replace the file at once: a reader sees the old state or the new one, never half of either."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as fh:
        os.fchmod(fd, 0o600)
        fh.write(state.to_json())
        fh.flush()
        os.fsync(fd)
    tmp.replace(path)
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def update(layout: Layout, change: Callable[[LinkState], LinkState], seat_ids: Iterable[str] = ()) -> LinkState:
    """Read, change and write the state under the lock; a classroom without one gets a new id here."""
    path = layout.links_file
    lock_fd = os.open(path.with_name(".links.lock"), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        before = read(path)
        after = change((before or LinkState.new()).with_seats(seat_ids))
        if after != before:
            write(path, after)
        return after
    finally:
        os.close(lock_fd)  # releases the lock


def ensure(layout: Layout, seat_ids: Iterable[str]) -> LinkState:
    """The classroom's state with a nonce for every seat in `seat_ids` (the first call makes the id)."""
    return update(layout, lambda state: state, seat_ids)


def rotate(layout: Layout, seat_ids: Iterable[str]) -> LinkState:
    """New nonces for `seat_ids`: their old links and cookies open nothing from now on."""
    wanted = list(seat_ids)
    return update(layout, lambda state: state.rotated(wanted), wanted)


def rotate_instructor(layout: Layout) -> LinkState:
    return update(layout, LinkState.rotated_instructor)


class LiveLinks:
    """The state on disk as the web server sees it: the file is read at every look (a few hundred
    bytes) and parsed again when its bytes changed; a stat would miss two rotations within one
    timestamp tick that reuse an inode.

    Fails closed: with the file gone or damaged, a classroom no link belongs to (nothing opens)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._raw: bytes | None = None
        self._state = LinkState.new()

    def current(self) -> LinkState:
        try:
            raw: bytes | None = self.path.read_bytes()
        except OSError:
            raw = None
        with self._lock:
            if raw is None or raw != self._raw:
                try:
                    self._state = parse(raw, self.path) if raw is not None else LinkState.new()
                except EnvironmentProblem:
                    self._state = LinkState.new()
                self._raw = raw
            return self._state
