"""Seat users: a Unix user per seat, named deterministically from the student id.

Student ids allow upper case and dots, Linux user names should not and stop at 32 characters,
so an id that is not already a safe name gets a readable part plus 8 hex of its SHA-256.
"""

from __future__ import annotations

import hashlib
import pwd
import re
import subprocess
import threading
from pathlib import Path

from dselab.errors import EnvironmentProblem

PREFIX = "dsl-"
COMMENT = "dselab classroom seat"  # marks users we created: never touch a user without it
OBSERVER_PREFIX = "dso-"
OBSERVER_COMMENT = "dselab classroom observer"  # a seat's observer (classroom.host.observe)
BUILDER_PREFIX = "dst-"
BUILDER_COMMENT = "dselab classroom template builder"  # makes the seats' cluster template
MAX_NAME = 32
_ACCOUNTS = threading.Lock()  # useradd/userdel lock /etc/passwd: seats starting together take turns
_PLAIN = re.compile(r"[a-z0-9][a-z0-9_-]{0,22}")  # fits PREFIX + 23 < 32 with room to spare


def user_name(student_id: str) -> str:
    """dsl-<id> for plain lower-case ids; otherwise dsl-<cleaned id, 16 chars>-<8 hex of the id>."""
    if _PLAIN.fullmatch(student_id):
        return PREFIX + student_id
    cleaned = re.sub(r"[^a-z0-9_-]", "-", student_id.lower()).strip("-")[:16] or "seat"
    digest = hashlib.sha256(student_id.encode()).hexdigest()[:8]
    name = f"{PREFIX}{cleaned}-{digest}"
    assert len(name) <= MAX_NAME
    return name


def observer_name(seat_user: str) -> str:
    """The observer user of a seat: dso-<the seat user's name after its prefix> (same length)."""
    return OBSERVER_PREFIX + seat_user[len(PREFIX):]


def builder_name(home: Path) -> str:
    """The template builder whose home is `home`: dst-<8 hex of its path>. One per classroom, or one
    for the classrooms that share a template folder (DSELAB_CLASSROOM_TEMPLATES); no student id
    makes a dst- name."""
    return BUILDER_PREFIX + hashlib.sha256(str(home).encode()).hexdigest()[:8]


def create_builder(name: str, home: Path) -> pwd.struct_passwd:
    """The template builder: a locked-password user with its own group, in no seat's group."""
    if lookup(name) is not None and not is_seat_user(name, BUILDER_COMMENT):
        raise EnvironmentProblem(f"user {name} exists and is not a dselab template builder; refusing to use it",
                                 fix="remove that user, or move the classroom (DSELAB_CLASSROOM_ROOT)")
    return _add(name, home, BUILDER_COMMENT, shell="/usr/sbin/nologin")


def remove_builder(name: str) -> None:
    with _ACCOUNTS:
        if is_seat_user(name, BUILDER_COMMENT):
            _run(["userdel", name])


def lookup(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def is_seat_user(name: str, comment: str = COMMENT) -> bool:
    entry = lookup(name)
    return entry is not None and entry.pw_gecos == comment


def check_free(name: str) -> None:
    """Refuse a name (or its observer's) that belongs to someone else (a user we did not create)."""
    for user, comment in ((name, COMMENT), (observer_name(name), OBSERVER_COMMENT)):
        if lookup(user) is not None and not is_seat_user(user, comment):
            raise EnvironmentProblem(f"user {user} exists and is not a dselab seat's; refusing to use it",
                                     fix="remove that user or rename the student in the roster")


def create(name: str, home: Path) -> pwd.struct_passwd:
    """A locked-password user with its own group and `home` (made by the caller)."""
    return _add(name, home, COMMENT, shell="/bin/bash")


def create_observer(seat_user: str, home: Path) -> pwd.struct_passwd:
    """The seat's observer: no login, its own group plus the seat's (read access to the seat's folders)."""
    return _add(observer_name(seat_user), home, OBSERVER_COMMENT, shell="/usr/sbin/nologin", groups=seat_user)


def _add(name: str, home: Path, comment: str, shell: str, groups: str | None = None) -> pwd.struct_passwd:
    """useradd once (a user that exists is kept), with its own group and `home` (made by the caller)."""
    with _ACCOUNTS:
        if lookup(name) is None:
            _run(["useradd", "--no-create-home", "--home-dir", str(home), "--shell", shell, "--user-group",
                  *(["--groups", groups] if groups else []), "--comment", comment, name])
    entry = lookup(name)
    assert entry is not None
    return entry


def remove(name: str) -> None:
    """The seat user and its observer (only users we created)."""
    with _ACCOUNTS:
        observer = observer_name(name)
        if is_seat_user(observer, OBSERVER_COMMENT):
            _run(["userdel", observer])
        if is_seat_user(name):
            _run(["userdel", name])


def _run(argv: list[str]) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise EnvironmentProblem(f"`{' '.join(argv)}` failed: {detail[0]}")
