"""A cgroup per seat, only below the cgroup the server itself runs in (`/proc/self/cgroup`).

cgroup v2 (one hierarchy, `0::<path>`) or v1 (a mount per controller): for each controller a seat
needs (memory, pids, cpu) we take the v1 mount that has it, else the v2 hierarchy when our own v2
cgroup offers it (`cgroup.controllers`). A hybrid host can mix both. The seat's folder is
`<our cgroup>/dselab-seat-<user>` in every hierarchy used. Standard library only: the seat
wrapper (classroom.host.seat_enter) imports this module before every seat command.

v2's "no internal processes" rule: controllers can be handed to children only by a cgroup with no
processes of its own. When ours has some, they move to a leaf `dselab-server` below it (what
container runtimes do); a later server in that leaf still counts its parent as its base.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

CONTROLLERS = ("memory", "pids", "cpu")
SEAT_PREFIX = "dselab-seat-"
SERVER_LEAF = "dselab-server"
V1, V2 = "v1", "v2"


@dataclass(frozen=True)
class Mount:
    point: Path
    root: str  # the hierarchy's folder this mount shows (`/` unless a container bind-mounted a subtree)
    fstype: str  # cgroup (v1) or cgroup2
    options: frozenset[str]  # v1: its controllers are among the super options; "ro" read-only

    @property
    def writable(self) -> bool:
        return "ro" not in self.options


@dataclass(frozen=True)
class Base:
    """One hierarchy's folder that seats go below (our own cgroup there), and what it limits."""

    version: str
    path: Path
    controllers: tuple[str, ...]

    def seat_dir(self, user: str) -> Path:
        return self.path / f"{SEAT_PREFIX}{user}"


@dataclass(frozen=True)
class Settings:
    """A seat's limits in the units the files take."""

    memory_bytes: int
    pids: int
    cpu_weight: int  # v2 cpu.weight (1-10000, default 100); v1 cpu.shares is 1024 * weight / 100

    def files(self, base: Base) -> list[tuple[str, str]]:
        """(file, value) to write in the seat's folder, in order; a missing optional file is skipped."""
        out: list[tuple[str, str]] = []
        if "memory" in base.controllers:
            mem = str(self.memory_bytes)
            # v1 wants memsw (memory + swap) >= the limit at every step: raising works memsw first,
            # lowering limit first; the optional first write covers whichever this is
            out += ([("memory.max", mem), ("memory.swap.max?", "0")] if base.version == V2 else
                    [("memory.memsw.limit_in_bytes?", mem), ("memory.limit_in_bytes", mem),
                     ("memory.memsw.limit_in_bytes?", mem), ("memory.swappiness?", "0")])
        if "pids" in base.controllers:
            out.append(("pids.max", str(self.pids)))
        if "cpu" in base.controllers:
            out.append(("cpu.weight", str(self.cpu_weight)) if base.version == V2 else
                       ("cpu.shares", str(max(2, self.cpu_weight * 1024 // 100))))
        return out


@dataclass(frozen=True)
class Host:
    """What the host offers, read from /proc/self (mountinfo, cgroup); tests give their own."""

    mounts: tuple[Mount, ...]
    own: dict[str, str] = field(default_factory=dict)  # "v2" or a v1 controller -> our path there

    @classmethod
    def read(cls, proc: Path = Path("/proc/self")) -> Host:
        try:
            return cls(tuple(parse_mountinfo((proc / "mountinfo").read_text())),
                       parse_proc_cgroup((proc / "cgroup").read_text()))
        except OSError:
            return cls(())


def parse_mountinfo(text: str) -> Iterable[Mount]:
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        parts, tail = left.split(), right.split()
        if not sep or len(parts) < 5 or len(tail) < 3 or tail[0] not in ("cgroup", "cgroup2"):
            continue
        options = frozenset(parts[5].split(",") if len(parts) > 5 else ()) | frozenset(tail[2].split(","))
        yield Mount(Path(_unescape(parts[4])), _unescape(parts[3]), tail[0], options)


def parse_proc_cgroup(text: str) -> dict[str, str]:
    own: dict[str, str] = {}
    for line in text.splitlines():
        hid, _, rest = line.partition(":")
        names, _, path = rest.partition(":")
        if hid == "0" and names == "":
            own[V2] = path
        for name in names.split(","):
            if name:
                own[name] = path
    return own


def _unescape(text: str) -> str:
    return text.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def _folder(mount: Mount, path: str) -> Path | None:
    """Where cgroup `path` (as /proc/self/cgroup names it) is under `mount`, or None."""
    root = mount.root.rstrip("/")
    if not (path == root or path.startswith(root + "/") or root == ""):
        return None
    return mount.point / path[len(root):].lstrip("/")


def bases(host: Host, wanted: Iterable[str] = CONTROLLERS) -> list[Base]:
    """Our own cgroup in each hierarchy that offers a wanted controller (v1 first: a controller
    bound to a v1 mount is not in v2). Empty when the host offers none we may write."""
    found: dict[Path, Base] = {}
    left = []
    for name in wanted:
        mount = next((m for m in host.mounts if m.fstype == "cgroup" and name in m.options), None)
        folder = _folder(mount, host.own[name]) if mount and name in host.own else None
        if mount is None or folder is None:
            left.append(name)
        elif mount.writable and folder.is_dir():
            prior = found.get(folder)
            found[folder] = Base(V1, folder, (*prior.controllers, name) if prior else (name,))
    v2 = next((m for m in host.mounts if m.fstype == "cgroup2"), None)
    folder = _folder(v2, host.own[V2]) if v2 and V2 in host.own else None
    if left and v2 and v2.writable and folder is not None:
        if folder.name == SERVER_LEAF:
            folder = folder.parent
        offered = _words(folder / "cgroup.controllers")
        usable = tuple(name for name in left if name in offered)
        if usable:
            found[folder] = Base(V2, folder, usable)
    return list(found.values())


def _words(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


# -- changing cgroups (root) ------------------------------------------------------------------------


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def _hand_down(base: Base) -> None:
    """v2: let children of `base` use its controllers; move its own processes to a leaf if needed."""
    missing = [c for c in base.controllers if c not in _words(base.path / "cgroup.subtree_control")]
    if not missing:
        return
    control = base.path / "cgroup.subtree_control"
    for _ in range(20):
        try:
            _write(control, " ".join(f"+{c}" for c in missing))
            return
        except OSError as err:
            if err.errno != errno.EBUSY:
                raise
        leaf = base.path / SERVER_LEAF
        leaf.mkdir(exist_ok=True)
        for pid in (base.path / "cgroup.procs").read_text().split():
            try:
                _write(leaf / "cgroup.procs", pid)
            except OSError:
                pass  # gone meanwhile
        time.sleep(0.05)
    raise OSError(errno.EBUSY, f"{base.path} keeps processes of its own: cannot hand its controllers down")


def ensure(base: Base, user: str, settings: Settings) -> Path:
    """The seat's folder in `base` with its limits written (idempotent)."""
    if base.version == V2:
        _hand_down(base)
    folder = base.seat_dir(user)
    folder.mkdir(exist_ok=True)
    for name, value in settings.files(base):
        optional = name.endswith("?")
        target = folder / name.rstrip("?")
        if optional and not target.exists():
            continue
        try:
            _write(target, value)
        except OSError:
            if not optional:
                raise
    return folder


def join(folder: Path, pid: int = 0) -> None:
    """Move process `pid` (0: this one) into the seat's folder; its children are born there."""
    _write(folder / "cgroup.procs", str(pid or os.getpid()))


def pids_in(folder: Path) -> list[int]:
    try:
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def remove(folder: Path, wait_s: float = 10.0) -> bool:
    """Remove an emptied seat folder (its processes may take a moment to be reaped). True when gone."""
    deadline = time.monotonic() + wait_s
    while folder.is_dir():
        try:
            folder.rmdir()
        except OSError as err:
            if err.errno not in (errno.EBUSY, errno.ENOTEMPTY) or time.monotonic() > deadline:
                return False
            time.sleep(0.1)
    return True
