"""Where a classroom keeps things, and who owns what.

    <root>/server/      root, 0700: the seat registry, each seat's grading store, the course key,
                        the live join links (links.json: the classroom id and a nonce per seat)
    <root>/server/stores/<seat>  the server's store of one seat (attempts, answers, baselines)
    <root>/seats/<user> the seat user's home, 0700: scripts, labs, the seat's clusters (.dselab/)
    <root>/toolchain/   root, world-readable: the Python and Cassandra jars every seat runs
    <root>/observers/<user>  a seat observer's home (that user's, 0700): nodetool's history, nothing more
    <root>/template/    the template builder's home (that user's, 0755): templates/ holds the cluster
                        template every seat's cluster is copied from (readable, never writable, by seats);
                        DSELAB_CLASSROOM_TEMPLATES moves it out of the root, to be shared by classrooms

DSELAB_CLASSROOM_ROOT (settings.classroom.root) moves the whole classroom (the tests use their own).
A layout also carries the settings it was made from: the classroom's knobs travel with it.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from dselab.errors import EnvironmentProblem
from dselab.settings import CLASSROOM_ROOT as ROOT_ENV
from dselab.settings import DEFAULT_CLASSROOM_ROOT as DEFAULT_ROOT
from dselab.settings import Settings, resolve
from dselab.settings import current as current_settings

__all__ = ["DEFAULT_ROOT", "ROOT_ENV", "Layout", "folder_name"]
_PLAIN = re.compile(r"[a-z0-9][a-z0-9_-]{0,40}")


@dataclass(frozen=True)
class Layout:
    root: Path
    # The settings the classroom runs with (limits, queues, the seats' node profile ...); a layout
    # made without them takes the environment's.
    settings: Settings = field(default_factory=current_settings, compare=False, repr=False)

    @classmethod
    def current(cls, settings: Settings | None = None) -> Layout:
        settings = resolve(settings)
        return cls(settings.classroom.root.absolute(), settings)

    @property
    def server(self) -> Path:
        return self.root / "server"

    @property
    def registry(self) -> Path:
        return self.server / "seats.json"

    @property
    def key_file(self) -> Path:
        return self.server / "course.key"

    @property
    def links_file(self) -> Path:
        """The classroom id and the link nonces every join token and cookie mixes in (classroom.links)."""
        return self.server / "links.json"

    @property
    def tools_conf(self) -> Path:
        """Logging config for the nodetool JVMs observers run: root's, readable by all, never the seat's."""
        return self.toolchain / "tools-conf"

    @property
    def observations(self) -> Path:
        """Scratch files an observer's output goes to (root's, 0700; each opened and removed by root)."""
        return self.server / "observations"

    @property
    def observers(self) -> Path:
        return self.root / "observers"

    def observer_home(self, user: str) -> Path:
        return self.observers / user

    @property
    def seats(self) -> Path:
        return self.root / "seats"

    @property
    def toolchain(self) -> Path:
        return self.root / "toolchain"

    def seat_home(self, user: str) -> Path:
        return self.seats / user

    @property
    def builder_home(self) -> Path:
        """The home of the user that makes the seats' cluster template (classroom.host.seat_template)."""
        shared = self.settings.classroom.templates
        return shared.absolute() if shared is not None else self.root / "template"

    @property
    def shared_template(self) -> bool:
        """The template lives outside the root, for every classroom naming it: a purge keeps it."""
        return self.settings.classroom.templates is not None

    @property
    def templates(self) -> Path:
        """The seats' cluster templates (DSELAB_TEMPLATE_DIR of every seat and of the builder)."""
        return self.builder_home / "templates"

    def seat_store(self, seat_id: str) -> Path:
        """The server's store for one seat: attempts, answers, baselines, evidence."""
        return self.server / "stores" / folder_name(seat_id)

    def exists(self) -> bool:
        return self.registry.exists()

    def make_dirs(self) -> None:
        """The shared folders with their modes: seats pass through root/ and seats/ (0711: no listing
        of the other seats), never into server/."""
        check_traversable(self.root.parent)
        for folder, mode in ((self.root, 0o755), (self.server, 0o700), (self.server / "stores", 0o700),
                             (self.seats, 0o711), (self.toolchain, 0o755), (self.tools_conf, 0o755),
                             (self.observations, 0o700), (self.observers, 0o711)):
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, 0, 0)
            folder.chmod(mode)


def folder_name(seat_id: str) -> str:
    """A file name for a student id: the id when it is plain lower case, else a cleaned part and 8 hex
    of its SHA-256 (ids allow upper case, dots and more)."""
    if _PLAIN.fullmatch(seat_id):
        return seat_id
    cleaned = re.sub(r"[^a-z0-9_-]", "-", seat_id.lower()).strip("-")[:16] or "seat"
    return f"{cleaned}-{hashlib.sha256(seat_id.encode()).hexdigest()[:8]}"


def world_reachable(path: Path) -> bool:
    """True when any user can reach `path`: every folder on the way is searchable by others."""
    path = Path(os.path.realpath(path))
    for part in [*reversed(path.parents), path]:
        try:
            mode = part.stat().st_mode
        except OSError:
            return False
        if stat.S_ISDIR(mode) and not mode & stat.S_IXOTH:
            return False
    return bool(path.stat().st_mode & stat.S_IROTH)


def check_traversable(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if not world_reachable(folder):
        raise EnvironmentProblem(f"seat users cannot pass through {folder} (a folder on the way is closed to others)",
                                 fix=f"choose another {ROOT_ENV}")
